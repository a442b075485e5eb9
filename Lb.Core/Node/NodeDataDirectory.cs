using System.Text.Json;
using Lb.Core.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Core.Node;

/// <summary>
/// A node's data directory: holds the process lock for as long as the node runs, and records whether the node is
/// standalone or clustered and who it is (<c>node.json</c>), so a restart resumes in the same mode. Every store on the
/// node keeps its files here; none of them takes a lock of its own.
/// </summary>
public sealed partial class NodeDataDirectory : IDisposable
{
    /// <summary>File name of the lock that keeps a second process out.</summary>
    public const string LockFileName = "lb.lock";

    /// <summary>File name of the node's identity and mode.</summary>
    public const string NodeFileName = "node.json";

    private const string ClusteredMode = "clustered";

    private readonly FileStream _lock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private NodeMode _mode;
    private NodeIdentity? _identity;

    /// <summary>Opens (creating if needed) <paramref name="path"/>, takes its lock and reads <c>node.json</c>.</summary>
    /// <exception cref="InvalidOperationException">Another process uses the directory, or <c>node.json</c> is unreadable.</exception>
    public NodeDataDirectory(string path, ILogger<NodeDataDirectory>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
        _lock = AcquireLock(Path);
        try
        {
            (_mode, _identity) = Load();
        }
        catch
        {
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>The absolute directory.</summary>
    public string Path { get; }

    /// <summary>The recorded mode; <see cref="NodeMode.Standalone"/> until a clustered store took over.</summary>
    public NodeMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _mode;
            }
        }
    }

    /// <summary>The recorded identity; null on a node that was never clustered.</summary>
    public NodeIdentity? Identity
    {
        get
        {
            lock (_gate)
            {
                return _identity;
            }
        }
    }

    /// <summary>The absolute path of <paramref name="relative"/> inside the directory.</summary>
    public string PathOf(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>
    /// Durably records that the node is now clustered as <paramref name="identity"/> (<c>node.json</c>, written
    /// atomically). Called by the store hand-over once the clustered store holds the state.
    /// </summary>
    public void RecordClustered(NodeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentException.ThrowIfNullOrWhiteSpace(identity.NodeId);
        var file = new NodeFile { NodeId = identity.NodeId, BindAddr = identity.BindAddr, AdvertiseAddr = identity.AdvertiseAddr, Mode = ClusteredMode };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(file, NodeFileJsonContext.Default.NodeFile);
        lock (_gate)
        {
            DurableFile.WriteAllBytes(PathOf(NodeFileName), [.. bytes, (byte)'\n']);
            _mode = NodeMode.Clustered;
            _identity = identity;
        }
        LogRecorded(_logger, identity.NodeId, Path);
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();

    private (NodeMode, NodeIdentity?) Load()
    {
        var file = PathOf(NodeFileName);
        if (!File.Exists(file))
        {
            return (NodeMode.Standalone, null);
        }
        NodeFile? node;
        try
        {
            node = JsonSerializer.Deserialize(File.ReadAllBytes(file), NodeFileJsonContext.Default.NodeFile);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"'{file}' is not valid JSON ({ex.Message}). Restore it from a backup, or wipe the data directory to start the node afresh.", ex);
        }
        if (node is null || string.IsNullOrEmpty(node.NodeId))
        {
            throw new InvalidOperationException($"'{file}' has no node_id. Restore it from a backup, or wipe the data directory to start the node afresh.");
        }
        // A node.json without a mode was written by the reference implementation: it only exists on cluster members.
        var mode = string.IsNullOrEmpty(node.Mode) || node.Mode == ClusteredMode ? NodeMode.Clustered
            : node.Mode == "standalone" ? NodeMode.Standalone
            : throw new InvalidOperationException($"'{file}': mode '{node.Mode}' is not 'standalone' or 'clustered'.");
        return (mode, new NodeIdentity(node.NodeId, node.BindAddr, node.AdvertiseAddr));
    }

    private static FileStream AcquireLock(string directory)
    {
        var lockPath = System.IO.Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix, released by the kernel if the process dies.
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"The data directory '{directory}' is in use by another Lb process (lock '{lockPath}'). Stop that process or give this node its own data directory (dataDir).", ex);
        }
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Node {NodeId} is now clustered; recorded in {Directory}")]
    private static partial void LogRecorded(ILogger logger, string nodeId, string directory);
}
