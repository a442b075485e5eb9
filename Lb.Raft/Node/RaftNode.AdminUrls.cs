namespace Lb.Raft.Node;

internal sealed partial class RaftNode
{
    /// <summary>The admin URLs members published through the log (node id → URL).</summary>
    public IReadOnlyDictionary<string, string> PublishedAdminUrls => _stateMachine.AdminUrls;

    /// <summary>
    /// Where member <paramref name="nodeId"/>'s admin API is reached: the URL it last published through the log (kept
    /// current across restarts on another port), else the one in its Raft metadata.
    /// </summary>
    public string? AdminUrlOf(string? nodeId, string? fromMetadata) =>
        nodeId is not null && _stateMachine.AdminUrls.TryGetValue(nodeId, out var published) ? published : fromMetadata;
}
