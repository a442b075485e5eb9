using System.Net;
using Lb.Core.Validation;
using Lb.Raft.Timing;

namespace Lb.Raft.Node;

/// <summary>Everything one <see cref="RaftNode"/> start needs.</summary>
internal sealed record RaftNodeSettings
{
    public required string DataDirectory { get; init; }
    public required string NodeId { get; init; }
    public required EndPoint Bind { get; init; }
    public required EndPoint Advertise { get; init; }
    public string? AdminUrl { get; init; }

    /// <summary>True only for the node that bootstraps a new cluster: it starts as the single voter.</summary>
    public bool ColdStart { get; init; }

    /// <summary>Timing to run with; null takes the cluster's replicated timing (or the defaults).</summary>
    public RaftTiming? Timing { get; init; }

    /// <summary>Mutual TLS on the Raft port; null: plain TCP.</summary>
    public RaftTlsFiles? Tls { get; init; }

    /// <summary>Start as a standby that never campaigns (a node that was removed from its cluster).</summary>
    public bool Standby { get; init; }
    /// <summary>The node's one validator (config, VIP, Raft timing); every member must validate alike.</summary>
    public IDesiredStateValidator Validator { get; init; } = DefaultDesiredStateValidator.Instance;

    /// <summary>Applied commands between snapshots; the log before the last snapshot is dropped.</summary>
    public int SnapshotEvery { get; init; } = 100;

    /// <summary>Applied versions kept in the replicated history (<c>configHistoryLimit</c>).</summary>
    public int HistoryLimit { get; init; } = Lb.Core.Store.DesiredStateHistoryExtensions.DefaultLimit;

    public string WalDirectory => Path.Combine(DataDirectory, "raft-wal");
    public string SnapshotDirectory => Path.Combine(DataDirectory, "raft-snapshots");
    public string MembersFile => Path.Combine(DataDirectory, "raft-members.bin");
    public string RemovedMarker => Path.Combine(DataDirectory, "raft-removed");
    public string AdminUrlFile => Path.Combine(DataDirectory, "raft-admin-url");

    /// <summary>True when Raft files exist in <paramref name="dataDirectory"/> (the contract's "existing state").</summary>
    public static bool HasRaftState(string dataDirectory) =>
        Directory.Exists(Path.Combine(dataDirectory, "raft-wal")) || File.Exists(Path.Combine(dataDirectory, "raft-members.bin"))
        || Directory.Exists(Path.Combine(dataDirectory, "raft-snapshots"));

    /// <summary>Removes Raft files left by an earlier, unfinished bootstrap or join.</summary>
    public static void DeleteRaftState(string dataDirectory)
    {
        foreach (var dir in new[] { "raft-wal", "raft-snapshots" })
        {
            var path = Path.Combine(dataDirectory, dir);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        foreach (var file in new[] { "raft-members.bin", "raft-removed", "raft-admin-url" })
        {
            File.Delete(Path.Combine(dataDirectory, file));
        }
    }
}
