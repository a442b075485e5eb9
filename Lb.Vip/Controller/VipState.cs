namespace Lb.Vip.Controller;

/// <summary>The VIP controller's states; every change is logged and visible in the status view.</summary>
internal enum VipState
{
    /// <summary>Not started yet: the interface may still carry a stale VIP from an earlier run.</summary>
    Starting,

    /// <summary>No VIP configured (or misconfigured): nothing to own.</summary>
    Disabled,

    /// <summary>This node does not hold a leader lease; the address is not on the interface.</summary>
    Released,

    /// <summary>Leader with a lease, waiting out <c>acquire_delay</c> or retrying a failed add.</summary>
    Acquiring,

    /// <summary>The address is on the interface and announced.</summary>
    Owned,

    /// <summary>Shut down.</summary>
    Stopped,
}
