namespace Lb.Core.Cluster;

/// <summary>
/// Grants and revokes <see cref="LeaderLease"/>s for an <see cref="ILeadershipView"/> implementation: at most one
/// lease is valid at a time, a new grant revokes the previous one first, and waiters wake on every grant.
/// </summary>
public sealed class LeaderLeaseSource : ILeadershipView, IDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _source;
    private LeaderLease? _lease;
    private TaskCompletionSource<LeaderLease> _granted = NewWaiter();
    private bool _disposed;

    /// <inheritdoc />
    public LeaderLease? CurrentLease
    {
        get
        {
            var lease = Volatile.Read(ref _lease);
            return lease is { IsValid: true } ? lease : null;
        }
    }

    /// <summary>Revokes any current lease and grants a new one for <paramref name="term"/>.</summary>
    public LeaderLease Grant(long term, DateTimeOffset acquiredAt)
    {
        TaskCompletionSource<LeaderLease> waiters;
        LeaderLease lease;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RevokeLocked();
            _source = new CancellationTokenSource();
            lease = new LeaderLease(term, acquiredAt, _source.Token);
            Volatile.Write(ref _lease, lease);
            waiters = _granted;
            _granted = NewWaiter();
        }
        waiters.TrySetResult(lease);
        return lease;
    }

    /// <summary>Ends the current lease (its token is cancelled); does nothing when there is none.</summary>
    public void Revoke()
    {
        lock (_gate)
        {
            RevokeLocked();
        }
    }

    /// <inheritdoc />
    public async ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task<LeaderLease> next;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_lease is { IsValid: true } held)
                {
                    return held;
                }
                next = _granted.Task;
            }
            var lease = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (lease.IsValid)
            {
                return lease;
            }
        }
    }

    /// <summary>Revokes the current lease; waiters get <see cref="ObjectDisposedException"/> on their next call.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            RevokeLocked();
            _granted.TrySetCanceled();
        }
    }

    private void RevokeLocked()
    {
        var source = _source;
        _source = null;
        Volatile.Write(ref _lease, null);
        if (source is not null)
        {
            // Cancel runs the lease holders' callbacks (VIP release) before a new lease can exist.
            // Not disposed: holders may still read or register on the token.
            source.Cancel();
        }
    }

    private static TaskCompletionSource<LeaderLease> NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
