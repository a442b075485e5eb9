namespace Lb.Core.Node;

/// <summary>Which store a node's desired state lives in.</summary>
public enum NodeMode
{
    /// <summary>A single node on the file store; accepts writes at once.</summary>
    Standalone,

    /// <summary>A member of a cluster; the desired state lives in the replicated store.</summary>
    Clustered,
}
