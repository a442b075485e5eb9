namespace Lb.Core.Cluster;

/// <summary>The VIP as this node sees it (<c>/api/status</c> <c>vip</c>, seed contract §6.5, §9.2).</summary>
public sealed record VipStatus
{
    /// <summary>True when a VIP address is configured (desired or local).</summary>
    public bool Enabled { get; init; }

    /// <summary>The local interface that carries the VIP.</summary>
    public string? Interface { get; init; }

    /// <summary>The VIP with its prefix length, e.g. <c>10.0.0.100/24</c>.</summary>
    public string? Address { get; init; }

    /// <summary>True while this node believes it holds the address.</summary>
    public bool Owned { get; init; }

    /// <summary>The last failure (add, remove, announce, verify), cleared by a full success.</summary>
    public string? LastError { get; init; }

    /// <summary>When <see cref="Owned"/> last changed.</summary>
    public DateTimeOffset? LastTransitionAt { get; init; }
}

/// <summary>Where the admin API reads the VIP status; the default only reports the configuration, Lb.Vip the controller.</summary>
public interface IVipStatusView
{
    /// <summary>The current status. Cheap; never blocks.</summary>
    VipStatus Current { get; }
}
