using Lb.Core.Node;

namespace Lb.Core.Store;

/// <summary>
/// Opens the replicated store of a node whose data directory says it is clustered (a restart after
/// <c>cluster bootstrap</c> or <c>join</c>). Lb.Raft registers one; without it a clustered node refuses to start.
/// </summary>
public interface IClusteredStoreProvider
{
    /// <summary>Opens the store in <paramref name="directory"/>; its <see cref="IDesiredStateStore.Current"/> must be usable at once.</summary>
    IDesiredStateStore OpenExisting(NodeDataDirectory directory);
}
