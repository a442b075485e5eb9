using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Raft.StateMachine;

/// <summary>How the state machine decided one <see cref="PutCommand"/>: the same on every node.</summary>
internal enum ApplyStatus
{
    Applied,
    VersionConflict,
    Invalid,
}

/// <summary>The decision plus the state after it.</summary>
internal sealed record ApplyOutcome(ApplyStatus Status, VersionedDesiredState Current, ValidationResult? Validation = null, string? Message = null);

/// <summary>
/// Travels with a log entry appended on this node (DotNext hands it to the state machine as the entry's context), so
/// the writer learns the decision made at apply time.
/// </summary>
internal sealed class ApplySink
{
    private readonly TaskCompletionSource<ApplyOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<ApplyOutcome> Outcome => _outcome.Task;

    public void Complete(ApplyOutcome outcome) => _outcome.TrySetResult(outcome);
}
