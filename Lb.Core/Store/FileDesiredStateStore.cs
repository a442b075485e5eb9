using System.Text.Json;
using Lb.Core.Json;
using Lb.Core.Node;
using Lb.Core.Spec;
using Lb.Core.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Core.Store;

/// <summary>
/// The single-node store: the desired state in one JSON file under the data directory. Writes are atomic and
/// durable before they are acknowledged (temp file, fsync, rename, fsync directory), so a kill -9 at any point
/// loses no acknowledged write and never leaves a torn file. The node's <see cref="NodeDataDirectory"/> keeps a second
/// process out of the directory.
/// </summary>
public sealed partial class FileDesiredStateStore : IDesiredStateStore, IDesiredStateHistory, IDisposable
{
    /// <summary>File name of the state document inside the data directory.</summary>
    public const string FileName = "desired-state.json";

    /// <summary>File name of the lock that keeps a second process out of the data directory.</summary>
    public const string LockFileName = NodeDataDirectory.LockFileName;

    private readonly string _path;
    private readonly NodeDataDirectory? _ownedDirectory;
    private readonly DesiredStateChangeSignal _signal;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TimeProvider _time;
    private readonly IDesiredStateValidator _validator;
    private readonly ILogger _logger;
    private readonly FileDesiredStateHistory _history;
    private readonly DurableWriter _writer;
    private bool _disposed;

    /// <summary>Opens (creating if needed) the store in <paramref name="dataDirectory"/>, locks it and loads the last state.</summary>
    /// <exception cref="InvalidOperationException">The directory is used by another process, or the state file is corrupt.</exception>
    /// <param name="dataDirectory">Where the state file and the lock live.</param>
    /// <param name="timeProvider">Clock for <c>applied_at</c>; the system clock when null.</param>
    /// <param name="limits">Size limits for validation; the defaults when null.</param>
    /// <param name="logger">Receives load and write lines; nothing when null.</param>
    /// <param name="algorithms">The balancing algorithms writes may use (the registered policies); the contract's four when null.</param>
    /// <param name="historyLimit">How many applied versions the <c>history/</c> folder keeps (default 50).</param>
    public FileDesiredStateStore(string dataDirectory, TimeProvider? timeProvider = null, DesiredStateLimits? limits = null, ILogger<FileDesiredStateStore>? logger = null, IAlgorithmRules? algorithms = null, int historyLimit = DesiredStateHistoryExtensions.DefaultLimit)
        : this(new NodeDataDirectory(dataDirectory), owned: true, timeProvider, new DefaultDesiredStateValidator(limits, algorithms: algorithms), logger, historyLimit)
    {
    }

    /// <summary>
    /// Opens the store in the node's <paramref name="directory"/> (which holds the lock) and loads the last state;
    /// every write is checked by <paramref name="validator"/> (the node's one validation) first. The last
    /// <paramref name="historyLimit"/> applied versions are kept in the directory's <c>history/</c> folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state file is corrupt.</exception>
    public FileDesiredStateStore(NodeDataDirectory directory, TimeProvider? timeProvider = null, IDesiredStateValidator? validator = null, ILogger<FileDesiredStateStore>? logger = null, int historyLimit = DesiredStateHistoryExtensions.DefaultLimit)
        : this(directory, owned: false, timeProvider, validator ?? DefaultDesiredStateValidator.Instance, logger, historyLimit)
    {
    }

    private FileDesiredStateStore(NodeDataDirectory directory, bool owned, TimeProvider? timeProvider, IDesiredStateValidator validator, ILogger<FileDesiredStateStore>? logger, int historyLimit)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(historyLimit, 1);
        _time = timeProvider ?? TimeProvider.System;
        _validator = validator;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _ownedDirectory = owned ? directory : null;
        DataDirectory = directory.Path;
        _path = Path.Combine(DataDirectory, FileName);
        try
        {
            var removed = DurableFile.DeleteLeftovers(DataDirectory, FileName);
            if (removed > 0)
            {
                LogLeftoversRemoved(_logger, removed, DataDirectory);
            }
            var loaded = Load();
            _signal = new DesiredStateChangeSignal(loaded);
            LogLoaded(_logger, loaded.Version, _path);
            _history = new FileDesiredStateHistory(DataDirectory, historyLimit);
            var dropped = _history.Load(loaded);
            if (dropped.Count > 0)
            {
                LogHistoryDropped(_logger, string.Join(", ", dropped));
            }
            _writer = new DurableWriter("Lb store writer");
        }
        catch
        {
            _ownedDirectory?.Dispose();
            throw;
        }
    }

    /// <summary>The absolute data directory.</summary>
    public string DataDirectory { get; }

    /// <inheritdoc />
    public VersionedDesiredState Current => _signal.Current;

    /// <inheritdoc />
    public int HistoryLimit => _history.Limit;

    /// <inheritdoc />
    public IReadOnlyList<DesiredStateHistorySummary> GetHistory() => _history.Entries;

    /// <inheritdoc />
    public ValueTask<DesiredStateHistoryEntry?> FindVersionAsync(long version, CancellationToken cancellationToken = default) =>
        _history.FindAsync(version, cancellationToken);

    /// <inheritdoc />
    public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        PutAsync(state, expectedVersion, "api", cancellationToken);

    /// <inheritdoc />
    public async ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(state);
        var normalized = DesiredStateJson.Normalize(state);
        var validation = _validator.Validate(normalized);
        if (!validation.IsValid)
        {
            return new StoreWriteResult { Status = StoreWriteStatus.Invalid, Current = Current, Validation = validation, Message = "validation failed" };
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var current = Current;
            if (expectedVersion is { } expected && expected != current.Version)
            {
                return new StoreWriteResult
                {
                    Status = StoreWriteStatus.VersionConflict,
                    Current = current,
                    Message = $"expected version {expected} but the current version is {current.Version}",
                };
            }

            var next = new VersionedDesiredState(current.Version + 1, normalized, _time.GetUtcNow());
            var document = new PersistedDesiredState
            {
                Version = next.Version,
                AppliedAt = next.AppliedAt,
                State = normalized,
                ContentHash = DesiredStateJson.ContentHash(normalized),
            };
            var bytes = JsonSerializer.SerializeToUtf8Bytes(document, DesiredStateJson.PersistedTypeInfo);
            var entry = new DesiredStateHistoryEntry(next.Version, next.AppliedAt, origin, normalized);
            try
            {
                // fsync blocks for a disk flush: it runs on the store's own writer thread, never on the caller's (with
                // inline scheduling that thread serves proxied connections) nor on a thread-pool worker. Acknowledged
                // only once it has returned. Not cancellable: a write that started is finished.
                // The history entry goes first: if we crash before the state file is replaced, loading drops it.
                await _writer.RunAsync(() =>
                {
                    _history.Write(entry);
                    try
                    {
                        DurableFile.WriteAllBytes(_path, bytes);
                    }
                    catch
                    {
                        _history.Discard(entry.Version);
                        throw;
                    }
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogWriteFailed(_logger, ex, _path);
                return new StoreWriteResult { Status = StoreWriteStatus.Unavailable, Current = current, Message = $"could not write {_path}: {ex.Message}" };
            }
            _history.Commit(entry);
            _signal.Publish(next);
            LogStored(_logger, next.Version);
            return new StoreWriteResult { Status = StoreWriteStatus.Applied, Current = next };
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
        _signal.WaitForChangeAsync(knownVersion, cancellationToken);

    /// <summary>Stops writes; releases the data directory lock when this store took it.</summary>
    public void Dispose()
    {
        _writeGate.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _writer.Dispose();
            _ownedDirectory?.Dispose();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private VersionedDesiredState Load()
    {
        if (!File.Exists(_path))
        {
            return new VersionedDesiredState(0, DesiredState.Empty, _time.GetUtcNow());
        }
        PersistedDesiredState? document;
        try
        {
            document = JsonSerializer.Deserialize(File.ReadAllBytes(_path), DesiredStateJson.PersistedTypeInfo);
        }
        catch (JsonException ex)
        {
            throw Corrupt($"it is not valid JSON ({ex.Message})");
        }
        if (document is null)
        {
            throw Corrupt("it is empty");
        }
        var state = DesiredStateJson.Normalize(document.State);
        if (!string.Equals(DesiredStateJson.ContentHash(state), document.ContentHash, StringComparison.Ordinal))
        {
            throw Corrupt("its content hash does not match its content");
        }
        return new VersionedDesiredState(document.Version, state, document.AppliedAt);
    }

    private InvalidOperationException Corrupt(string why) =>
        new($"The desired-state file '{_path}' cannot be loaded: {why}. Restore it from a backup or another node, or move it away to start with an empty configuration.");

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Loaded desired state version {Version} from {Path}")]
    private static partial void LogLoaded(ILogger logger, long version, string path);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Stored desired state version {Version}")]
    private static partial void LogStored(ILogger logger, long version);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Removed {Count} unacknowledged temp file(s) left by an interrupted write in {Directory}")]
    private static partial void LogLeftoversRemoved(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Dropped history files that were unacknowledged, unreadable or beyond the limit: {Files}")]
    private static partial void LogHistoryDropped(ILogger logger, string files);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Writing {Path} failed; the previous state is still in effect")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string path);
}
