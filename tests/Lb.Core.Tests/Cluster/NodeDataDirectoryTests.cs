using Lb.Core.Node;
using Lb.Core.Store;
using Lb.TestSupport;

namespace Lb.Core.Tests.Cluster;

public sealed class NodeDataDirectoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_fresh_directory_is_standalone_without_identity()
    {
        using var directory = new NodeDataDirectory(_dir.Path);
        Assert.Equal(NodeMode.Standalone, directory.Mode);
        Assert.Null(directory.Identity);
        Assert.False(File.Exists(Path.Combine(_dir.Path, NodeDataDirectory.NodeFileName)));
    }

    [Fact]
    public void The_clustered_mode_and_identity_survive_a_restart()
    {
        var identity = new NodeIdentity("node-2", "0.0.0.0:7002", "10.0.0.12:7002");
        using (var directory = new NodeDataDirectory(_dir.Path))
        {
            directory.RecordClustered(identity);
            Assert.Equal(NodeMode.Clustered, directory.Mode);
        }
        using var reopened = new NodeDataDirectory(_dir.Path);
        Assert.Equal(NodeMode.Clustered, reopened.Mode);
        Assert.Equal(identity, reopened.Identity);
        var text = File.ReadAllText(Path.Combine(_dir.Path, NodeDataDirectory.NodeFileName));
        Assert.Contains("\"node_id\": \"node-2\"", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_json_of_the_reference_without_a_mode_means_clustered()
    {
        File.WriteAllText(Path.Combine(_dir.Path, NodeDataDirectory.NodeFileName),
            "{\n  \"node_id\": \"node-1\",\n  \"bind_addr\": \"0.0.0.0:7001\",\n  \"advertise_addr\": \"10.0.0.11:7001\"\n}\n");
        using var directory = new NodeDataDirectory(_dir.Path);
        Assert.Equal(NodeMode.Clustered, directory.Mode);
        Assert.Equal("10.0.0.11:7001", directory.Identity!.AdvertiseAddr);
    }

    [Fact]
    public void The_directory_lock_keeps_a_second_owner_out_and_the_file_store_shares_it()
    {
        using var directory = new NodeDataDirectory(_dir.Path);
        var second = Assert.Throws<InvalidOperationException>(() => new NodeDataDirectory(_dir.Path));
        Assert.Contains("in use by another Lb process", second.Message, StringComparison.Ordinal);

        // A store opened on the node's directory takes no lock of its own.
        using var store = new FileDesiredStateStore(directory);
        Assert.Equal(directory.Path, store.DataDirectory);
    }
}
