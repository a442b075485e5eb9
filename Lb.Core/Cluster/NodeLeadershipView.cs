using Lb.Core.Node;
using Lb.Core.Store;

namespace Lb.Core.Cluster;

/// <summary>
/// The default <see cref="ILeadershipView"/>: a standalone node leads with one lease that ends only when the node
/// hands over to a clustered store; from then on the clustered store answers (when it implements the view).
/// </summary>
internal sealed class NodeLeadershipView(IDesiredStateStore store, TimeProvider time) : ILeadershipView
{
    private readonly LeaderLease _standalone = new(0, time.GetUtcNow(), store is ActiveDesiredStateStore active ? active.StandaloneToken : CancellationToken.None);

    public LeaderLease? CurrentLease => Clustered() is { } view ? view.CurrentLease : _standalone.IsValid ? _standalone : null;

    public async ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default)
    {
        if (Clustered() is { } view)
        {
            return await view.WaitForLeaseAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_standalone.IsValid)
        {
            return _standalone;
        }
        // Clustered, but the store offers no leadership view: this node never leads.
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        throw new OperationCanceledException(cancellationToken);
    }

    private ILeadershipView? Clustered() => store switch
    {
        ActiveDesiredStateStore { Mode: NodeMode.Clustered, Inner: ILeadershipView view } => view,
        ActiveDesiredStateStore => null,
        ILeadershipView view => view,
        _ => null,
    };
}
