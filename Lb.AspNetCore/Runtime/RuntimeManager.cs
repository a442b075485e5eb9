using System.Diagnostics.Metrics;
using Lb.Balancing;
using Lb.Core.Runtime;
using Lb.Core.Spec;
using Lb.Core.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// The one component that turns desired state into running configuration: it watches the store and, for every
/// version it sees, builds a snapshot, lets the transports attach their data and swaps it in. Nothing else builds
/// or publishes snapshots; a writer that wants read-your-writes awaits <see cref="WaitForAppliedAsync"/>. A build
/// that throws keeps the last good configuration serving, and is logged, counted and shown in <c>/api/status</c>.
/// </summary>
internal sealed partial class RuntimeManager : BackgroundService, IRuntimeApplyStatus
{
    private readonly IDesiredStateStore _store;
    private readonly RuntimeSnapshotBuilder _builder;
    private readonly IRuntimeAttachment[] _attachments;
    private readonly UpstreamRegistry _registry;
    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(1);

    private readonly RuntimeSnapshotHolder<RuntimeSnapshot> _holder = new(RuntimeSnapshot.Empty);
    private readonly ILogger<RuntimeManager> _logger;
    private readonly TimeProvider _time;
    private readonly Counter<long> _builds;
    private TaskCompletionSource _progress = NewProgress();
    private VersionedDesiredState? _lastGood;
    private RuntimeApplyFailure? _lastFailure;
    private long _seenVersion = -1;
    private long _failures;

    public RuntimeManager(
        IDesiredStateStore store,
        RuntimeSnapshotBuilder builder,
        IEnumerable<IRuntimeAttachment> attachments,
        UpstreamRegistry registry,
        TimeProvider time,
        IMeterFactory meterFactory,
        ILogger<RuntimeManager> logger)
    {
        _store = store;
        _builder = builder;
        _attachments = [.. attachments];
        _registry = registry;
        _time = time;
        _logger = logger;
        var meter = meterFactory.Create(Diagnostics.ProxyMetrics.MeterName);
        _builds = meter.CreateCounter<long>("lb.runtime.builds", "{build}", "Runtime snapshot builds by outcome (success, failure); a failure keeps the previous snapshot serving");
        meter.CreateObservableGauge("lb.runtime.applied_version", () => _holder.Current.Version, "{version}", "Desired-state version this node serves");
    }

    /// <summary>The snapshot serving now.</summary>
    public RuntimeSnapshot Current => _holder.Current;

    /// <summary>Snapshots published since start, including re-publishes of the last good state after a failed build.</summary>
    public long Generation => _holder.Generation;

    public long AppliedVersion => _holder.Current.Version;

    public RuntimeApplyFailure? LastFailure => Volatile.Read(ref _lastFailure);

    public long FailureCount => Interlocked.Read(ref _failures);

    public async ValueTask<RuntimeApplyOutcome> WaitForAppliedAsync(long version, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // Capture the signal before reading the progress: a build finishing in between completes the captured one.
            var progress = Volatile.Read(ref _progress);
            if (Interlocked.Read(ref _seenVersion) >= version)
            {
                var applied = AppliedVersion;
                return new RuntimeApplyOutcome(applied, applied >= version ? null : LastFailure);
            }
            await progress.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The store's state at start is served before the host accepts requests; later versions come from the watch loop.
        Apply(_store.Current);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Health checkers use the HTTP client factory; stop them while the container that owns it is still alive.
        await _registry.DisposeAsync();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var state in _store.WatchAsync(stoppingToken))
                {
                    Apply(state);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // A failing store must not stop the host (BackgroundService would): serve on and watch again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogWatchFailed(_logger, ex);
                try
                {
                    await Task.Delay(WatchRetryDelay, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Builds and publishes <paramref name="state"/> unless it was seen already. Only the watcher calls this, one call at a time.</summary>
    private void Apply(VersionedDesiredState state)
    {
        if (state.Version <= Interlocked.Read(ref _seenVersion))
        {
            return;
        }
        try
        {
            Publish(state);
            _lastGood = state;
            Volatile.Write(ref _lastFailure, null);
            _builds.Add(1, new KeyValuePair<string, object?>("outcome", "success"));
            var snapshot = _holder.Current;
            LogApplied(_logger, state.Version, snapshot.Routes.Routes.Count, snapshot.Pools.Length);
        }
#pragma warning disable CA1031 // Any failure of a build must leave the node serving; it is recorded, not rethrown.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _failures);
            Volatile.Write(ref _lastFailure, new RuntimeApplyFailure(state.Version, ex.Message, _time.GetUtcNow()));
            _builds.Add(1, new KeyValuePair<string, object?>("outcome", "failure"));
            LogBuildFailed(_logger, ex, state.Version, _holder.Current.Version);
            Restore();
        }
        finally
        {
            Interlocked.Exchange(ref _seenVersion, state.Version);
            Interlocked.Exchange(ref _progress, NewProgress()).TrySetResult();
        }
    }

    private void Publish(VersionedDesiredState state)
    {
        var snapshot = _builder.Build(state);
        var commits = new Action[_attachments.Length];
        for (var i = 0; i < commits.Length; i++)
        {
            commits[i] = _attachments[i].Prepare(snapshot);
        }
        _holder.Publish(snapshot);
        foreach (var commit in commits)
        {
            commit();
        }
    }

    /// <summary>
    /// The failed build already moved the upstream registry (health checks, connection pools) to the new state;
    /// building the last good state again moves them back under a fresh snapshot of the same version. With no good
    /// state yet, the registry is emptied so nothing the failed build started keeps running.
    /// </summary>
    private void Restore()
    {
        var good = _lastGood;
        try
        {
            if (good is null)
            {
                _registry.Apply(ProxyConfig.Empty);
            }
            else
            {
                Publish(good);
            }
        }
#pragma warning disable CA1031 // The previous snapshot is still published; this only logs that it could not be refreshed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRestoreFailed(_logger, ex, good?.Version ?? -1);
        }
    }

    private static TaskCompletionSource NewProgress() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Applied configuration version {Version}: {Routes} routes, {Pools} pools")]
    private static partial void LogApplied(ILogger logger, long version, int routes, int pools);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Could not build the runtime of configuration version {Version}; version {Serving} keeps serving")]
    private static partial void LogBuildFailed(ILogger logger, Exception exception, long version, long serving);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Watching the desired-state store failed; the current configuration keeps serving and the watch restarts")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Error, Message = "Could not rebuild configuration version {Version} after a failed build; its previous snapshot keeps serving")]
    private static partial void LogRestoreFailed(ILogger logger, Exception exception, long version);
}
