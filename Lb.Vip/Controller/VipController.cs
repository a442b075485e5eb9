using System.Diagnostics.Metrics;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Vip.Driver;
using Lb.Core.Cluster;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lb.Vip.Controller;

/// <summary>
/// Keeps the VIP on this node exactly while it leads with a valid lease. One loop owns the transitions (explicit
/// states, <see cref="VipState"/>); the only other path to the driver is the lease-loss callback, which removes the
/// address synchronously inside the lease revocation, before the lease source can grant another lease. The settings
/// watcher wakes the loop only when the VIP settings change, so config writes never touch the address. Driver
/// failures become <c>last_error</c> and a retry, never an exception out of the controller.
/// </summary>
internal sealed partial class VipController : IHostedService, IVipStatusView, IDisposable
{
    private readonly IVipDriver _driver;
    private readonly ILeadershipView _leadership;
    private readonly IDesiredStateStore _store;
    private readonly LbNodeOptions _node;
    private readonly VipOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();

    // Guards the driver and the fields below; held for one driver call at a time, never across an await.
    private readonly Lock _gate = new();
    private VipSettings? _onInterface;      // the address we put on the interface (or failed to take off)
    private VipSettings? _maybeStale;       // an earlier run may have left this one there: take it off unless leading
    private CancellationTokenRegistration _leaseWatch;
    private LeaderLease? _watchedLease;
    private volatile VipState _state = VipState.Starting;
    private string? _lastError;
    private bool _refreshFailed;
    private long _renewedAt;                // TimeProvider timestamp of the last successful add or renewal
    private DateTimeOffset? _lastTransitionAt;
    private VipStatus _status = new();

    private Effective _effective;
    private long _observedVersion;
    private int _disposed;
    private CancellationTokenSource _settingsChanged = new();
    private Task _loop = Task.CompletedTask;
    private Task _watch = Task.CompletedTask;

    private sealed record Effective(VipSettings? Settings, string? Error);

    public VipController(IVipDriver driver, ILeadershipView leadership, IDesiredStateStore store, IOptions<LbNodeOptions> node,
        IOptions<VipOptions> options, TimeProvider time, ILogger<VipController> logger, IMeterFactory? meterFactory = null)
    {
        _driver = driver;
        _leadership = leadership;
        _store = store;
        _node = node.Value;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _effective = Resolve(_store.Current.State.Vip);
        _maybeStale = _effective.Settings;
        Publish();
        if (meterFactory is not null)
        {
            VipMetrics.Register(meterFactory, this);
        }
    }

    /// <summary>The VIP as this node sees it.</summary>
    public VipStatus Current => Volatile.Read(ref _status);

    /// <summary>The state machine's current state.</summary>
    public VipState State => _state;

    /// <summary>Raised after every status change, outside any lock (tests wait on it instead of sleeping).</summary>
    public event Action<VipStatus>? StatusChanged;

    /// <summary>The last store version the settings watcher has looked at.</summary>
    public long ObservedVersion => Volatile.Read(ref _observedVersion);

    /// <summary>Raised after the settings watcher has looked at a store version.</summary>
    public event Action? SettingsObserved;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _watch = WatchSettingsAsync(_stop.Token);
        _loop = RunAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_loop, _watch).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown budget ran out; release below anyway: it is one syscall.
        }
        lock (_gate)
        {
            _leaseWatch.Dispose();
            if ((_onInterface ?? _maybeStale) is { } settings)
            {
                if (settings.ReleaseOnShutdown)
                {
                    RemoveLocked(settings, "shutdown");
                }
                else
                {
                    Log.LeftOnShutdown(_logger, settings.Address.ToString(), settings.Interface);
                }
            }
            EnterLocked(VipState.Stopped);
        }
        Publish();
    }

    public void Dispose()
    {
        // Registered as itself, as a hosted service and as the status view: the container disposes it more than once.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stop.Cancel();
        _leaseWatch.Dispose();
        _stop.Dispose();
        _settingsChanged.Dispose();
    }

    private async Task WatchSettingsAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var state in _store.WatchAsync(stop))
            {
                var next = Resolve(state.State.Vip);
                // A config write leaves the settings equal: the VIP is none of its business.
                if (next != Volatile.Read(ref _effective))
                {
                    Volatile.Write(ref _effective, next);
                    Log.SettingsChanged(_logger, next.Settings?.Address.ToString() ?? "(none)", next.Settings?.Interface ?? "(none)");
                    var previous = Interlocked.Exchange(ref _settingsChanged, new CancellationTokenSource());
                    // Not disposed: the loop may be reading its token right now (a plain CTS holds nothing to free).
                    await previous.CancelAsync();
                }
                Volatile.Write(ref _observedVersion, state.Version);
                SettingsObserved?.Invoke();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private Effective Resolve(VipPolicy? desired)
    {
        var settings = VipSettings.Resolve(_node, _options, desired, out var error);
        return new Effective(settings, error);
    }
}
