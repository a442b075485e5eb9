using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Lb.Raft.Node;

/// <summary>
/// Tells a leader when a heartbeat round has been acknowledged by a majority, and how long after its start: the
/// basis of the time-bounded leader lease. DotNext does not expose this as an event, but it records each such round,
/// right after renewing its own lease, in its server-side <c>broadcast-time</c> histogram (elapsed time since the
/// round started), tagged with the leader's public address; this reads that instrument. One listener per process
/// (the instruments are process-wide); nodes subscribe by their advertised address.
/// </summary>
internal static class LeaderRounds
{
    private const string ServerMeter = "DotNext.Net.Cluster.Consensus.Raft.Server";
    private const string BroadcastTime = "broadcast-time";
    private const string AddressTag = "dotnext.raft.server.address";

    private static readonly ConcurrentDictionary<string, Subscription> Subscribers = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();
    private static MeterListener? s_listener;

    /// <summary>
    /// Calls <paramref name="acknowledged"/> with the round's elapsed time, on DotNext's heartbeat thread, after
    /// every round the node at <paramref name="advertisedAddress"/> (as DotNext formats its public end point) leads
    /// and a majority acknowledges. Dispose the result to stop.
    /// </summary>
    public static IDisposable Subscribe(string advertisedAddress, Action<TimeSpan> acknowledged)
    {
        EnsureListening();
        var subscription = new Subscription(advertisedAddress, acknowledged);
        Subscribers[advertisedAddress] = subscription;
        return subscription;
    }

    private static void EnsureListening()
    {
        lock (Gate)
        {
            if (s_listener is not null)
            {
                return;
            }
            var listener = new MeterListener
            {
                InstrumentPublished = static (instrument, l) =>
                {
                    if (instrument.Meter.Name == ServerMeter && instrument.Name == BroadcastTime)
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            listener.SetMeasurementEventCallback<double>(OnMeasurement);
            listener.Start();
            s_listener = listener;
        }
    }

    private static void OnMeasurement(Instrument instrument, double elapsedMs, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == AddressTag && tag.Value is string address && Subscribers.TryGetValue(address, out var subscription))
            {
                subscription.Acknowledged(TimeSpan.FromMilliseconds(elapsedMs));
                return;
            }
        }
    }

    private sealed class Subscription(string address, Action<TimeSpan> acknowledged) : IDisposable
    {
        public Action<TimeSpan> Acknowledged { get; } = acknowledged;

        // Removes only itself: a restarted node on the same address may have subscribed again already.
        public void Dispose() => Subscribers.TryRemove(new KeyValuePair<string, Subscription>(address, this));
    }
}
