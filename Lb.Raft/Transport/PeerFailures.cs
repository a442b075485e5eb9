using System.Collections.Concurrent;
using System.Net;
using Lb.Raft.Node;

namespace Lb.Raft.Transport;

/// <summary>
/// Peers that failed a moment ago: a connect that was refused or ran out its timeout, a connection the peer closed
/// on us, or the leader's own connection to us closing (its process died). Within <see cref="Hold"/> of such a failure, a node that is not leading does not try the peer again (the
/// connect fails at once): a DotNext candidate waits for every pre-vote and vote, a dead member's too, and without
/// this the vote after a failed pre-vote waits a whole connect timeout for a member that was found dead milliseconds
/// earlier. Counting a member as unreachable is always safe in Raft (a lost message); the hold only bounds how long
/// this node stops asking it.
/// </summary>
internal sealed class PeerFailures(TimeProvider time, TimeSpan hold)
{
    private readonly ConcurrentDictionary<string, long> _failedAt = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long after a failure the peer is not tried again.</summary>
    public TimeSpan Hold { get; } = hold;

    public void Failed(EndPoint peer) => Failed(RaftAddress.Format(peer));

    /// <summary>Records a failure of the peer whose Raft address (<see cref="RaftAddress.Format"/>) is <paramref name="address"/>.</summary>
    public void Failed(string address) => _failedAt[address] = time.GetTimestamp();

    public void Reached(EndPoint peer) => Reached(RaftAddress.Format(peer));

    public void Reached(string address) => _failedAt.TryRemove(address, out _);

    /// <summary>True while <paramref name="peer"/> failed less than <see cref="Hold"/> ago.</summary>
    public bool IsDown(EndPoint peer) =>
        _failedAt.TryGetValue(RaftAddress.Format(peer), out var at) && time.GetElapsedTime(at) < Hold;
}
