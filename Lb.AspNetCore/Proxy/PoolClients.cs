using System.Net;
using Lb.Balancing;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// One <see cref="SocketsHttpHandler"/> per pool (pooled keep-alive connections shared by every route of the pool).
/// A handler survives configuration changes while its pool keeps the same connect timeout; a removed pool's handler
/// is disposed only once no request is in flight on its targets, so a config push never cuts a running request.
/// </summary>
internal sealed class PoolClients : IDisposable
{
    private readonly Dictionary<string, Entry> _active = new(StringComparer.Ordinal);
    private readonly List<Entry> _retired = [];
    private readonly Lock _gate = new();

    /// <summary>The handler of <paramref name="pool"/>; a route that overrides the connect timeout gets one of its own (<see cref="Key"/>).</summary>
    public HttpMessageInvoker Get(UpstreamPool pool, TimeSpan? connectTimeout = null)
    {
        var key = Key(pool, connectTimeout);
        var timeout = connectTimeout ?? pool.ConnectTimeout;
        lock (_gate)
        {
            if (_active.TryGetValue(key, out var entry) && entry.ConnectTimeout == timeout)
            {
                entry.Pool = pool;
                return entry.Invoker;
            }
            if (entry is not null)
            {
                _retired.Add(entry);
            }
            var created = new Entry(pool, Create(timeout), timeout);
            _active[key] = created;
            return created.Invoker;
        }
    }

    /// <summary>The handler key: the pool id, plus the connect timeout when a route overrides it.</summary>
    public static string Key(UpstreamPool pool, TimeSpan? connectTimeout) =>
        connectTimeout is { } t ? pool.Id + "\u0001" + t.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) : pool.Id;

    /// <summary>Retires handlers no longer in use (<paramref name="liveKeys"/>) and disposes retired ones that have gone idle.</summary>
    public void Sweep(IReadOnlySet<string> liveKeys)
    {
        lock (_gate)
        {
            foreach (var (id, entry) in _active.ToArray())
            {
                if (!liveKeys.Contains(id))
                {
                    _active.Remove(id);
                    _retired.Add(entry);
                }
            }
            for (var i = _retired.Count - 1; i >= 0; i--)
            {
                if (_retired[i].Pool.Targets.All(t => t.ActiveRequests == 0))
                {
                    _retired[i].Invoker.Dispose();
                    _retired.RemoveAt(i);
                }
            }
        }
    }

    public int RetiredCount
    {
        get
        {
            lock (_gate)
            {
                return _retired.Count;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _active.Values.Concat(_retired))
            {
                entry.Invoker.Dispose();
            }
            _active.Clear();
            _retired.Clear();
        }
    }

    private static HttpMessageInvoker Create(TimeSpan connectTimeout) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = connectTimeout,
        // Bounded lifetime so DNS changes of upstream names are picked up; idle connections are dropped after 90 s (as the reference).
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        MaxConnectionsPerServer = 1024,
        ActivityHeadersPropagator = null,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
    }, disposeHandler: true);

    private sealed class Entry(UpstreamPool pool, HttpMessageInvoker invoker, TimeSpan connectTimeout)
    {
        public UpstreamPool Pool { get; set; } = pool;

        public HttpMessageInvoker Invoker { get; } = invoker;

        public TimeSpan ConnectTimeout { get; } = connectTimeout;
    }
}
