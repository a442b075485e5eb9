using Lb.Core.Json;
using Lb.Core.Node;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Core.Store;

/// <summary>
/// The node's desired-state store as everyone else sees it: it forwards to the store of the node's current mode (the
/// file store when standalone, the replicated store when clustered) and can hand the state over from one to the
/// other at run time (<c>cluster bootstrap</c>) without a restart. Readers and watchers never notice the switch
/// except as one more state; versions never go backwards.
/// </summary>
public sealed partial class ActiveDesiredStateStore : IDesiredStateStore, IDesiredStateChangeStore, IAsyncDisposable, IDisposable
{
    private readonly NodeDataDirectory _directory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Lock _publishGate = new();
    private readonly DesiredStateChangeSignal _signal;
    private readonly CancellationTokenSource _standalone = new();
    private IDesiredStateStore _inner;
    private CancellationTokenSource _pumpStop = new();
    private Task _pump;
    private bool _disposed;

    /// <summary>Starts on <paramref name="initial"/>, the store of the mode recorded in <paramref name="directory"/>.</summary>
    public ActiveDesiredStateStore(IDesiredStateStore initial, NodeDataDirectory directory, ILogger<ActiveDesiredStateStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(directory);
        _inner = initial;
        _directory = directory;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var start = initial.Current;
        _signal = new DesiredStateChangeSignal(start);
        if (directory.Mode != NodeMode.Standalone)
        {
            _standalone.Cancel();
        }
        _pump = StartPump(initial, start.Version, _pumpStop.Token);
    }

    /// <summary>The store that holds the state now.</summary>
    public IDesiredStateStore Inner => Volatile.Read(ref _inner);

    /// <summary>The node's mode (recorded in its data directory).</summary>
    public NodeMode Mode => _directory.Mode;

    /// <summary>The node's data directory.</summary>
    public NodeDataDirectory Directory => _directory;

    /// <summary>Cancelled when the node stops being standalone (at hand-over, or at start on a clustered node).</summary>
    public CancellationToken StandaloneToken => _standalone.Token;

    /// <inheritdoc />
    public VersionedDesiredState Current => _signal.Current;

    /// <inheritdoc />
    public async ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var result = await Inner.PutAsync(state, expectedVersion, cancellationToken).ConfigureAwait(false);
            // Read-your-writes: Current reflects an applied write before the caller hears of it.
            PublishIfNewer(result.Current);
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// <see cref="PutAsync(DesiredState, long?, CancellationToken)"/> that records <paramref name="origin"/> in the
    /// history when the current store keeps one (<see cref="IDesiredStateHistory"/>).
    /// </summary>
    public async ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var result = await Inner.PutAsync(state, expectedVersion, origin, cancellationToken).ConfigureAwait(false);
            PublishIfNewer(result.Current);
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Writes <paramref name="change"/> through the current store: as a change when it logs changes (the replicated
    /// store), as a whole state otherwise.
    /// </summary>
    public async ValueTask<StoreWriteResult> ApplyChangeAsync(ConfigChange change, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var result = Inner is IDesiredStateChangeStore changes
                ? await changes.ApplyChangeAsync(change, expectedVersion, origin, cancellationToken).ConfigureAwait(false)
                : await DesiredStateChangeExtensions.ApplyAsWholeAsync(Inner, change, expectedVersion, origin, cancellationToken).ConfigureAwait(false);
            PublishIfNewer(result.Current);
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
        _signal.WaitForChangeAsync(knownVersion, cancellationToken);

    /// <summary>
    /// Hands the node over to a clustered store: writes pause, <paramref name="openSeeded"/> receives the current
    /// state and returns the new store already holding it (same content, version not lower), the node records
    /// <paramref name="identity"/> and its clustered mode, and the new store becomes active. If anything fails before
    /// the mode is recorded, the old store stays active and nothing is lost.
    /// </summary>
    /// <returns>The state the new store started with.</returns>
    /// <exception cref="InvalidOperationException">The node is not standalone, or the new store lost or renumbered the state.</exception>
    public ValueTask<VersionedDesiredState> HandOverAsync(
        NodeIdentity identity,
        Func<VersionedDesiredState, CancellationToken, ValueTask<IDesiredStateStore>> openSeeded,
        CancellationToken cancellationToken = default) =>
        SwitchAsync(identity, openSeeded, keepState: true, cancellationToken);

    /// <summary>
    /// Hands the node over to the store of a cluster it joins: like <see cref="HandOverAsync"/>, but the new store
    /// holds the cluster's state, which replaces the local one (the caller made sure the operator agreed to lose it);
    /// the version may then be lower than the local one.
    /// </summary>
    /// <returns>The state the new store started with.</returns>
    public ValueTask<VersionedDesiredState> AdoptAsync(
        NodeIdentity identity,
        Func<VersionedDesiredState, CancellationToken, ValueTask<IDesiredStateStore>> openJoined,
        CancellationToken cancellationToken = default) =>
        SwitchAsync(identity, openJoined, keepState: false, cancellationToken);

    private async ValueTask<VersionedDesiredState> SwitchAsync(
        NodeIdentity identity,
        Func<VersionedDesiredState, CancellationToken, ValueTask<IDesiredStateStore>> openSeeded,
        bool keepState,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(openSeeded);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_directory.Mode != NodeMode.Standalone)
            {
                throw new InvalidOperationException("the node is already clustered; a hand-over only starts from a standalone node");
            }
            var old = Inner;
            var seed = old.Current;
            var next = await openSeeded(seed, cancellationToken).ConfigureAwait(false);
            var adopted = next.Current;
            // The clustered store may add the cluster's sticky-cookie secret; everything else must be as handed over.
            if (keepState && (adopted.Version < seed.Version
                || !string.Equals(DesiredStateJson.ContentHash(adopted.State with { StickySecret = seed.State.StickySecret }), DesiredStateJson.ContentHash(seed.State), StringComparison.Ordinal)))
            {
                await DisposeStoreAsync(next).ConfigureAwait(false);
                throw new InvalidOperationException(
                    $"the new store does not hold the handed-over state (it has version {adopted.Version}, expected {seed.Version} or later with the same content); the node stays standalone");
            }

            _directory.RecordClustered(identity);
            await _pumpStop.CancelAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
            Volatile.Write(ref _inner, next);
            if (keepState)
            {
                PublishIfNewer(adopted);
            }
            else
            {
                // The cluster's state replaces the local one even when its version is lower.
                lock (_publishGate)
                {
                    _signal.Publish(adopted);
                }
            }
            _pumpStop = new CancellationTokenSource();
            _pump = StartPump(next, adopted.Version, _pumpStop.Token);
            // The standalone leader lease ends before the clustered store can grant one.
            await _standalone.CancelAsync().ConfigureAwait(false);
            await DisposeStoreAsync(old).ConfigureAwait(false);
            LogHandedOver(_logger, identity.NodeId, adopted.Version);
            return adopted;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Stops following the active store and disposes it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            await _pumpStop.CancelAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
            await DisposeStoreAsync(Inner).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Stops following the active store and disposes it.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Follows changes the active store makes on its own (a replicated store applies other nodes' writes).</summary>
    // On the thread pool, never on the creator's synchronization context: a synchronous Dispose waits for it.
    // The known version is taken by the caller, so a change before the pump runs is not missed.
    private Task StartPump(IDesiredStateStore store, long known, CancellationToken cancellationToken) =>
        Task.Run(() => PumpAsync(store, known, cancellationToken), CancellationToken.None);

    private async Task PumpAsync(IDesiredStateStore store, long known, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var state = await store.WaitForChangeAsync(known, cancellationToken).ConfigureAwait(false);
                known = state.Version;
                PublishIfNewer(state);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void PublishIfNewer(VersionedDesiredState state)
    {
        lock (_publishGate)
        {
            if (state.Version > _signal.Current.Version)
            {
                _signal.Publish(state);
            }
        }
    }

    private static async ValueTask DisposeStoreAsync(IDesiredStateStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Handed the desired state over to the clustered store as node {NodeId} at version {Version}")]
    private static partial void LogHandedOver(ILogger logger, string nodeId, long version);
}
