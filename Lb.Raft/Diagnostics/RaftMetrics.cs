using System.Diagnostics.Metrics;
using Lb.Raft.Node;

namespace Lb.Raft.Diagnostics;

/// <summary>
/// Raft gauges (exported as <c>lb_raft_term</c>, <c>lb_raft_commit_index</c>, <c>lb_raft_is_leader</c>,
/// <c>lb_raft_applied_index</c>, <c>lb_raft_apply_lag</c>), sampled from whichever Raft node runs; none while the
/// node is standalone.
/// </summary>
internal sealed class RaftMetrics
{
    public const string MeterName = "Lb.Raft";

    public RaftMetrics(IMeterFactory meterFactory, Func<RaftNode?> node)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("lb.raft.term", () => Observe(node(), n => n.Term), description: "Current Raft term");
        meter.CreateObservableGauge("lb.raft.commit_index", () => Observe(node(), n => n.Log.LastCommittedEntryIndex), description: "Index of the last committed log entry");
        meter.CreateObservableGauge("lb.raft.applied_index", () => Observe(node(), n => n.Log.LastAppliedIndex), description: "Index of the last log entry applied on this node");
        meter.CreateObservableGauge("lb.raft.apply_lag", () => Observe(node(), n => n.Log.LastCommittedEntryIndex - n.Log.LastAppliedIndex), description: "Committed entries not applied yet on this node");
        meter.CreateObservableGauge("lb.raft.is_leader", () => Observe(node(), n => n.IsLeader ? 1 : 0), description: "1 while this node leads");
    }

    private static IEnumerable<Measurement<long>> Observe(RaftNode? node, Func<RaftNode, long> read) =>
        node is { IsStopped: false } ? [new Measurement<long>(read(node))] : [];
}
