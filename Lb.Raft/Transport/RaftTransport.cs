using DotNext.Net.Cluster.Consensus.Raft;
using Lb.Raft.Node;
using Lb.Raft.Timing;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Transport;

/// <summary>
/// Lb's plain-TCP transport for DotNext (its custom transport): both connection factories and the failures they share.
/// What it adds to DotNext's own TCP transport is that a node which is not leading does not wait for a peer known to
/// be down: the old leader, once its connection to this node closed (its process died), or any peer whose connect or
/// connection just failed (<see cref="PeerFailures"/>). A DotNext candidate waits for every pre-vote and vote, so
/// without it a dead leader costs each of them a connect timeout. And it settles crossing pre-votes
/// (<see cref="PreVoteTieBreak"/>), so two followers whose timers fire together do not split the vote.
/// </summary>
internal sealed partial class RaftTransport
{
    /// <param name="localAddress">This node's advertised Raft address.</param>
    /// <param name="timing">The cluster's timing.</param>
    /// <param name="time">Clock.</param>
    /// <param name="logger">Log.</param>
    /// <param name="tls">Mutual TLS on every connection (Raft TLS); null: plain TCP.</param>
    public RaftTransport(string localAddress, RaftTiming timing, TimeProvider time, ILogger logger, DotNext.Net.Security.SslOptions? tls = null)
    {
        Failures = new PeerFailures(time, timing.PeerFailureHold);
        TieBreak = new PreVoteTieBreak(localAddress, timing.StandAsideWindow, time)
        {
            SteppedAside = candidate => LogSteppedAside(logger, candidate, timing.StandAsideWindow.TotalMilliseconds),
        };
        Connections = new RaftConnectionFactory(Failures, localAddress, timing.ConnectTimeout, time, TieBreak, tls?.ClientOptions);
        // Generous: a starved peer may take a while to send its first bytes, and nothing else waits for them.
        Listener = new RaftListenerFactory(Failures, timing.RequestTimeout * 10, TieBreak, tls?.ServerOptions);
    }

    public PreVoteTieBreak TieBreak { get; }

    public PeerFailures Failures { get; }

    public RaftConnectionFactory Connections { get; }

    public RaftListenerFactory Listener { get; }

    /// <summary>Connects the rules to the cluster's state: who leads, and whose connection closing counts.</summary>
    public void Attach(RaftCluster cluster)
    {
        Connections.IsLeading = () => cluster.Leader is { IsRemote: false };
        TieBreak.MemberCount = () => cluster.Members.Count;
        // Only the leader's closing counts: it is the member a follower's election would otherwise wait for, and its
        // connection to a follower closes only when it gives up on that follower or dies. Others close connections
        // for their own reasons (a cancelled vote).
        Listener.InboundClosed = address =>
        {
            if (cluster.Leader is { IsRemote: true } leader && string.Equals(RaftAddress.Format(leader.EndPoint), address, StringComparison.OrdinalIgnoreCase))
            {
                Failures.Failed(address);
            }
        };
    }

    [LoggerMessage(EventId = 4051, Level = LogLevel.Information, Message = "Raft: granted the pre-vote of {Candidate}, which ranks before this node: not campaigning for {WindowMs:F0} ms")]
    private static partial void LogSteppedAside(ILogger logger, string candidate, double windowMs);
}
