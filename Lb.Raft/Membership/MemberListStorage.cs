using System.Net;
using DotNext.Buffers;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Lb.Raft.Membership;

/// <summary>
/// The Raft membership (member addresses) in a file of the data directory, written by DotNext through temp file,
/// fsync and rename. Keeping it on disk is what lets a restarted node rejoin the same cluster; an in-memory list would
/// make every restarted node forget its peers.
/// </summary>
internal sealed class MemberListStorage(string path) : PersistentClusterConfigurationStorage<EndPoint>(path)
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> writer) => writer.WriteEndPoint(address);

    protected override EndPoint Decode(ref SequenceReader reader) => reader.ReadEndPoint();
}
