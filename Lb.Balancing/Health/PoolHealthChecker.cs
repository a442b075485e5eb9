using Lb.Balancing.Registry;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging;

namespace Lb.Balancing.Health;

/// <summary>
/// Active health checks of one pool: an independent probe loop per target, so a slow target does not
/// delay the others (the reference probes a pool sequentially, contract §13.17).
/// </summary>
internal sealed class PoolHealthChecker : IAsyncDisposable
{
    private readonly RegistryContext _context;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly string _poolId;
    private readonly Dictionary<UpstreamTarget, Loop> _loops = [];
    private readonly List<Loop> _retired = [];
    private readonly Lock _gate = new();
    private bool _stopped;

    public PoolHealthChecker(RegistryContext context, IHttpClientFactory httpClientFactory, string poolId, ActiveHealthCheckSettings settings)
    {
        _context = context;
        _httpClientFactory = httpClientFactory;
        _poolId = poolId;
        Settings = settings;
    }

    public ActiveHealthCheckSettings Settings { get; }

    /// <summary>Starts loops for new targets and stops the loops of targets that left the pool.</summary>
    public void Update(IReadOnlyList<UpstreamTarget> targets)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            // Loops of targets removed earlier have ended by now (or soon will); let go of them.
            _retired.RemoveAll(static loop =>
            {
                if (!loop.Task.IsCompleted)
                {
                    return false;
                }
                loop.Cancel.Dispose();
                return true;
            });
            var keep = new HashSet<UpstreamTarget>(targets);
            foreach (var (target, loop) in _loops.ToArray())
            {
                if (!keep.Contains(target))
                {
                    loop.Cancel.Cancel();
                    _loops.Remove(target);
                    _retired.Add(loop);
                }
            }
            var started = 0;
            foreach (var target in targets)
            {
                if (!_loops.ContainsKey(target))
                {
                    var cts = new CancellationTokenSource();
                    var task = Task.Run(() => RunAsync(target, cts.Token), CancellationToken.None);
                    _loops.Add(target, new Loop(cts, task));
                    started++;
                }
            }
            if (started > 0)
            {
                Log.CheckerStarted(_context.Logger, _poolId, started);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Loop[] loops;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            loops = [.. _loops.Values, .. _retired];
            _loops.Clear();
            _retired.Clear();
        }
        foreach (var loop in loops)
        {
            await loop.Cancel.CancelAsync().ConfigureAwait(false);
        }
        foreach (var loop in loops)
        {
            await loop.Task.ConfigureAwait(false);
            loop.Cancel.Dispose();
        }
        Log.CheckerStopped(_context.Logger, _poolId);
    }

    private async Task RunAsync(UpstreamTarget target, CancellationToken cancellationToken)
    {
        var time = _context.Time;
        try
        {
            // First probe at once so a dead target leaves quickly; then a random phase so the targets of a
            // pool (and of every pool) are not all probed in the same instant.
            await ProbeAsync(target, cancellationToken).ConfigureAwait(false);
            var jitter = Settings.Interval * Random.Shared.NextDouble();
            await Task.Delay(jitter, time, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                await ProbeAsync(target, cancellationToken).ConfigureAwait(false);
                await Task.Delay(Settings.Interval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: pool removed, target removed or registry disposed.
        }
#pragma warning disable CA1031 // A crashed loop would silently freeze the target's verdict; log it instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.CheckLoopFailed(_context.Logger, ex, _poolId, target.Address);
        }
    }

    private async Task ProbeAsync(UpstreamTarget target, CancellationToken cancellationToken)
    {
        var settings = Settings;
        var started = _context.Time.GetTimestamp();
        var error = settings.Tcp ? await ConnectProbeAsync(target, settings, cancellationToken).ConfigureAwait(false)
            : await HttpProbeAsync(target, settings, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        target.LastCheckDuration = _context.Time.GetElapsedTime(started);

        var changed = target.RecordProbe(error is null, error, _context.Time.GetUtcNow(), settings.Rise, settings.Fall);
        if (changed is { } healthy)
        {
            if (healthy)
            {
                Log.TargetHealthy(_context.Logger, _poolId, target.Address);
            }
            else
            {
                Log.TargetUnhealthy(_context.Logger, _poolId, target.Address, error);
            }
            _context.Metrics.Transition(_poolId, target.Address, healthy);
        }
    }

    /// <summary>A TCP connect to the target's address, closed at once; null when it succeeded within the timeout.</summary>
    private async Task<string?> ConnectProbeAsync(UpstreamTarget target, ActiveHealthCheckSettings settings, CancellationToken cancellationToken)
    {
        var origin = target.ProbeUri;
        using var timeout = new CancellationTokenSource(settings.Timeout, _context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(origin.DnsSafeHost, origin.Port, linked.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"dial tcp {target.Address}: timeout after {GoDuration.Format(settings.Timeout)}";
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            return $"dial tcp {target.Address}: {ex.Message}";
        }
    }

    private async Task<string?> HttpProbeAsync(UpstreamTarget target, ActiveHealthCheckSettings settings, CancellationToken cancellationToken)
    {
        var uri = ProbeUri(target, settings.Path);
        string? error;
        using (var timeout = new CancellationTokenSource(settings.Timeout, _context.Time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        using (var request = new HttpRequestMessage(HttpMethod.Get, uri))
        {
            request.Headers.Host = target.Address;
            try
            {
                var client = _httpClientFactory.CreateClient(BalancingOptions.HealthCheckHttpClientName);
                // Headers are enough to judge; the body is never read.
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                error = status == settings.ExpectStatus ? null : "unexpected status: " + status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = $"Get \"{uri}\": timeout after {GoDuration.Format(settings.Timeout)}";
            }
            catch (HttpRequestException ex)
            {
                error = $"Get \"{uri}\": {ex.Message}";
            }
        }
        return error;
    }

    /// <summary>
    /// The target's origin with the path appended as text, never resolved as a relative reference: "//other:1/x" must
    /// stay a path on the target, not become another host (validation rejects it too; this holds if validation is bypassed).
    /// </summary>
    internal static Uri ProbeUri(UpstreamTarget target, string path)
    {
        var origin = target.ProbeUri;
        var uri = new Uri(origin.GetLeftPart(UriPartial.Authority) + (path.StartsWith('/') ? path : "/" + path), UriKind.Absolute);
        return uri.Authority == origin.Authority && uri.Scheme == origin.Scheme ? uri : origin;
    }

    private sealed record Loop(CancellationTokenSource Cancel, Task Task);
}
