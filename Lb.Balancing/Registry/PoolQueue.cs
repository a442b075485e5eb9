namespace Lb.Balancing;

/// <summary>
/// The queue of one pool (it lives as long as the pool id, across configuration changes): requests that found every
/// eligible target at its <c>max_connections</c> wait here, first in first out, and are woken one at a time as
/// targets release slots. A woken request picks again through its route's balancer, so the balancer's rules (health,
/// state, the limits themselves) still decide where it goes.
/// </summary>
/// <remarks>
/// Only the queue path allocates (one waiter per wait); a pool without limits never touches it beyond one volatile
/// read per completed request (<see cref="Waiting"/>).
/// </remarks>
public sealed class PoolQueue
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly TimeProvider _time;
    private int _waiting;
    private int _max;
    private long _timedOut;
    private long _rejected;
    private long _nextTicket;

    internal PoolQueue(TimeProvider time) => _time = time;

    /// <summary>Requests waiting now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The most requests that have waited at once (HAProxy's <c>qmax</c>).</summary>
    public int MaxWaiting => Volatile.Read(ref _max);

    /// <summary>Requests answered 503 because their wait timed out.</summary>
    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>Requests answered 503 because the queue was full.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>
    /// Waits for a pick that succeeds: enqueues, tries the balancer (a slot may have freed meanwhile), and otherwise
    /// waits to be woken by a released slot, up to <paramref name="timeout"/>. Returns the pick (holding a slot), or
    /// <see cref="QueueResult.Full"/> / <see cref="QueueResult.TimedOut"/> with no slot held.
    /// </summary>
    public async ValueTask<(QueueResult Result, PickResult Pick)> WaitAsync(IRouteBalancer balancer, PickContext context, int capacity, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(balancer);
        var waiter = new Waiter();
        lock (_lock)
        {
            if (_waiters.Count >= capacity)
            {
                Interlocked.Increment(ref _rejected);
                return (QueueResult.Full, default);
            }
            waiter.Ticket = ++_nextTicket;
            waiter.Node = _waiters.AddLast(waiter);
            Count(+1);
        }
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        try
        {
            while (true)
            {
                // Tried after (re-)enqueueing, so a slot released between the caller's failed pick and now is not missed.
                var pick = balancer.Pick(in context);
                if (pick.Target is not null)
                {
                    Leave(waiter, usedWakeUp: true);
                    return (QueueResult.Picked, pick);
                }
                var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                if (remaining <= TimeSpan.Zero)
                {
                    Leave(waiter, usedWakeUp: false);
                    Interlocked.Increment(ref _timedOut);
                    return (QueueResult.TimedOut, default);
                }
                try
                {
                    await waiter.Signal.Task.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    continue; // one last pick above, then the timeout answer
                }
                // Woken (and dequeued): back in line at its arrival place before picking, so an unlucky pick keeps its turn.
                lock (_lock)
                {
                    waiter.Signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var after = _waiters.First;
                    while (after is not null && after.Value.Ticket < waiter.Ticket)
                    {
                        after = after.Next;
                    }
                    waiter.Node = after is null ? _waiters.AddLast(waiter) : _waiters.AddBefore(after, waiter);
                    Count(+1);
                }
            }
        }
        catch
        {
            Leave(waiter, usedWakeUp: false);
            throw;
        }
    }

    /// <summary>A target of the pool released a slot: wakes the request at the head of the queue.</summary>
    internal void SlotFreed()
    {
        Waiter? head;
        lock (_lock)
        {
            var node = _waiters.First;
            if (node is null)
            {
                return;
            }
            head = node.Value;
            _waiters.RemoveFirst();
            head.Node = null;
            Count(-1);
        }
        head.Signal.TrySetResult();
    }

    /// <summary>
    /// Wakes every waiter (the pool's configuration changed: a raised limit or a new target may have room); those that
    /// still find none go back in line at their arrival place.
    /// </summary>
    internal void WakeAll()
    {
        List<Waiter> woken;
        lock (_lock)
        {
            woken = [.. _waiters];
            _waiters.Clear();
            foreach (var waiter in woken)
            {
                waiter.Node = null;
            }
            Count(-woken.Count);
        }
        foreach (var waiter in woken)
        {
            waiter.Signal.TrySetResult();
        }
    }

    /// <summary>Removes a waiter that is done; one that was woken and leaves without a slot passes the wake-up on.</summary>
    private void Leave(Waiter waiter, bool usedWakeUp)
    {
        var passOn = false;
        lock (_lock)
        {
            if (waiter.Node is { } node)
            {
                _waiters.Remove(node);
                waiter.Node = null;
                Count(-1);
            }
            else
            {
                passOn = !usedWakeUp && waiter.Signal.Task.IsCompleted;
            }
        }
        if (passOn)
        {
            SlotFreed();
        }
    }

    private void Count(int delta)
    {
        var now = _waiting + delta;
        Volatile.Write(ref _waiting, now);
        if (now > _max)
        {
            Volatile.Write(ref _max, now);
        }
    }

    private sealed class Waiter
    {
        public TaskCompletionSource Signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node;

        /// <summary>Arrival order, kept when a woken waiter goes back in line.</summary>
        public long Ticket;
    }
}

/// <summary>How a wait in a <see cref="PoolQueue"/> ended.</summary>
public enum QueueResult
{
    /// <summary>A target with room was picked.</summary>
    Picked,
    /// <summary>The queue was full: nothing waited.</summary>
    Full,
    /// <summary>No slot freed within the queue timeout.</summary>
    TimedOut,
}
