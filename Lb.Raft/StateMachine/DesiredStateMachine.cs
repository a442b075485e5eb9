using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.StateMachine;

/// <summary>
/// Applies committed <see cref="PutCommand"/>s to the in-memory desired state. The decision (compare-and-set,
/// validation) depends only on the log, so every node reaches the same state and the same version. Configuration
/// entries and no-ops never reach here with a payload and are skipped. Asks DotNext for a snapshot every
/// <c>snapshotEvery</c> applied commands; DotNext then drops the log up to it.
/// </summary>
internal sealed partial class DesiredStateMachine : SimpleStateMachine
{
    private readonly DesiredStateChangeSignal _signal;
    private readonly TimeProvider _time;
    private readonly IDesiredStateValidator _validator;
    private readonly int _snapshotEvery;
    private readonly ILogger _logger;
    private int _sinceSnapshot;
    private long _lastAppliedIndex;
    private System.Collections.Immutable.ImmutableDictionary<string, string> _adminUrls = System.Collections.Immutable.ImmutableDictionary.Create<string, string>(StringComparer.Ordinal);

    public DesiredStateMachine(string directory, TimeProvider time, IDesiredStateValidator validator, int snapshotEvery, int historyLimit, ILogger logger)
        : base(new DirectoryInfo(directory))
    {
        History = new ReplicatedHistory(historyLimit);
        _time = time;
        _validator = validator;
        _snapshotEvery = snapshotEvery;
        _logger = logger;
        _signal = new DesiredStateChangeSignal(new VersionedDesiredState(0, DesiredState.Empty, time.GetUtcNow()));
    }

    public VersionedDesiredState Current => _signal.Current;

    public DesiredStateChangeSignal Signal => _signal;

    /// <summary>The last applied versions (part of the replicated state and of its snapshots).</summary>
    public ReplicatedHistory History { get; }

    /// <summary>The admin URL each member last published (node id → URL), replicated and in snapshots.</summary>
    public System.Collections.Immutable.ImmutableDictionary<string, string> AdminUrls => Volatile.Read(ref _adminUrls);

    /// <summary>Raft index of the last entry this state machine has seen (applied or skipped).</summary>
    public long LastAppliedIndex => Volatile.Read(ref _lastAppliedIndex);

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        Volatile.Write(ref _lastAppliedIndex, entry.Index);
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload) || payload.IsEmpty)
        {
            return ValueTask.FromResult(false);
        }
        var sink = entry.Context as ApplySink;
        var command = PutCommand.Decode(payload);
        if (command is null)
        {
            LogUnknownEntry(_logger, entry.Index);
            sink?.Complete(new ApplyOutcome(ApplyStatus.Invalid, Current, Message: "the log entry is not a command this node understands"));
            return ValueTask.FromResult(false);
        }
        if (command.IsAdminUrl)
        {
            // Member metadata, not desired state: no new version, no history entry.
            var url = System.Text.Encoding.UTF8.GetString(command.StateJson.Span);
            if (command.Origin.Length > 0 && Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                Volatile.Write(ref _adminUrls, _adminUrls.SetItem(command.Origin, url));
            }
            sink?.Complete(new ApplyOutcome(ApplyStatus.Applied, Current));
            return ValueTask.FromResult(CountTowardsSnapshot());
        }
        var outcome = Decide(command);
        if (outcome.Status == ApplyStatus.Applied)
        {
            _signal.Publish(outcome.Current);
            // Time and origin come from the entry, not this node, so every member records the same history.
            History.Add(new ReplicatedHistoryEntry(outcome.Current.Version, command.WrittenAt ?? outcome.Current.AppliedAt, command.Origin,
                outcome.Current.State, applied: outcome.Current));
            LogApplied(_logger, outcome.Current.Version, entry.Index);
        }
        sink?.Complete(outcome);
        return ValueTask.FromResult(CountTowardsSnapshot());
    }

    private bool CountTowardsSnapshot()
    {
        if (++_sinceSnapshot < _snapshotEvery)
        {
            return false;
        }
        _sinceSnapshot = 0;
        return true;
    }

    private ApplyOutcome Decide(PutCommand command)
    {
        var current = Current;
        if (command.ExpectedVersion is { } expected && expected != current.Version)
        {
            return new ApplyOutcome(ApplyStatus.VersionConflict, current,
                Message: $"expected version {expected} but the current version is {current.Version}");
        }
        DesiredState next;
        ValidationResult validation;
        if (command.IsChange)
        {
            // Only the change is parsed and validated; every route and pool it does not touch is shared with the
            // current state, which is what lets the runtime reuse them too.
            var change = DesiredStateJson.ParseChange(command.StateJson.Span);
            if (!change.Succeeded)
            {
                return new ApplyOutcome(ApplyStatus.Invalid, current, Message: change.Message + ": " + change.Detail);
            }
            next = current.State with { Config = change.Value!.ApplyTo(current.State.Config) };
            validation = _validator.ValidateChange(current.State, next, change.Value!);
        }
        else
        {
            var parsed = DesiredStateJson.ParseState(command.StateJson.Span);
            if (!parsed.Succeeded)
            {
                return new ApplyOutcome(ApplyStatus.Invalid, current, Message: parsed.Message);
            }
            next = parsed.Value!;
            validation = _validator.Validate(next);
        }
        if (!validation.IsValid)
        {
            return new ApplyOutcome(ApplyStatus.Invalid, current, validation, "validation failed");
        }
        var version = Math.Max(current.Version + 1, command.MinimumVersion);
        return new ApplyOutcome(ApplyStatus.Applied, new VersionedDesiredState(version, next, _time.GetUtcNow()));
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.Invoke(SnapshotFormat.Encode(Current, History.Entries, AdminUrls), token);

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var (state, history, adminUrls) = SnapshotFormat.Decode(bytes, snapshotFile.FullName);
        Volatile.Write(ref _adminUrls, System.Collections.Immutable.ImmutableDictionary.CreateRange(StringComparer.Ordinal, adminUrls));
        if (history.Count == 0 && state.Version > 0)
        {
            // A snapshot written before the history existed: its state is the one version there is to roll back to.
            history.Add(new ReplicatedHistoryEntry(state.Version, state.AppliedAt, "snapshot without history", state.State, applied: state));
        }
        History.Reset(history);
        _signal.Publish(state);
        LogRestored(_logger, state.Version, snapshotFile.Name);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Applied desired state version {Version} (log index {Index})")]
    private static partial void LogApplied(ILogger logger, long version, long index);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Restored desired state version {Version} from snapshot {Snapshot}")]
    private static partial void LogRestored(ILogger logger, long version, string snapshot);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Skipped log entry {Index}: not a command this node understands (a newer Lb wrote it?)")]
    private static partial void LogUnknownEntry(ILogger logger, long index);
}
