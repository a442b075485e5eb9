using System.Text.Json;

namespace Lb.Raft.Node;

/// <summary>Reads and atomically writes <c>node.json</c> (temp file, fsync, rename).</summary>
internal static class NodeIdentityFile
{
    public const string FileName = "node.json";

    public static NodeIdentity? TryRead(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), NodeIdentityJsonContext.Default.NodeIdentity)
                ?? throw new InvalidDataException("it is empty");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new InvalidOperationException($"The node identity file '{path}' cannot be read ({ex.Message}). Restore it, or remove the data directory and join the node again.", ex);
        }
    }

    public static void Write(string dataDirectory, NodeIdentity identity)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        var temp = path + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(identity, NodeIdentityJsonContext.Default.NodeIdentity);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
