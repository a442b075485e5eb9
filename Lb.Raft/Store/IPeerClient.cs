using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;

namespace Lb.Raft.Store;

/// <summary>Talks to other members' admin APIs: forwarded writes, removal notices.</summary>
internal interface IPeerClient
{
    /// <summary>
    /// Asks <paramref name="leader"/> to propose <paramref name="command"/>. Throws on transport failure (the write may
    /// or may not have happened).
    /// </summary>
    Task<ForwardedWrite> ForwardAsync(LeaderInfo leader, PutCommand command, CancellationToken cancellationToken);

    /// <summary>Tells the member at <paramref name="adminUrl"/> that it was removed, so it stops campaigning.</summary>
    Task NotifyRemovedAsync(string adminUrl, CancellationToken cancellationToken);
}

/// <summary>The leader's answer to a forwarded write.</summary>
/// <param name="Status">How it ended; <see cref="StoreWriteStatus.NotLeader"/> when the target no longer leads (nothing was appended).</param>
/// <param name="Version">The version after the write (the new one when applied).</param>
/// <param name="Validation">Validation errors for <see cref="StoreWriteStatus.Invalid"/>.</param>
/// <param name="Message">Detail for failures.</param>
internal sealed record ForwardedWrite(StoreWriteStatus Status, long Version, ValidationResult? Validation = null, string? Message = null)
{
    public static ForwardedWrite From(ApplyOutcome outcome) => outcome.Status switch
    {
        ApplyStatus.Applied => new(StoreWriteStatus.Applied, outcome.Current.Version),
        ApplyStatus.VersionConflict => new(StoreWriteStatus.VersionConflict, outcome.Current.Version, Message: outcome.Message),
        _ => new(StoreWriteStatus.Invalid, outcome.Current.Version, outcome.Validation, outcome.Message),
    };
}
