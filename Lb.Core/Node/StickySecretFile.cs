using System.Security.Cryptography;
using Lb.Core.Store;

namespace Lb.Core.Node;

/// <summary>
/// A node's own sticky-cookie secret, kept in its data directory (<c>sticky-secret</c>) so cookies stay valid across
/// restarts of a standalone node. A cluster replaces it with <see cref="Spec.DesiredState.StickySecret"/>.
/// </summary>
public static class StickySecretFile
{
    /// <summary>File name inside the data directory.</summary>
    public const string FileName = "sticky-secret";

    /// <summary>The secret (base64) of the node whose data directory is <paramref name="dataDirectory"/>, created on first use.</summary>
    public static string LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path) && TryDecode(File.ReadAllText(path).Trim(), out _))
        {
            return File.ReadAllText(path).Trim();
        }
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Directory.CreateDirectory(dataDirectory);
        DurableFile.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes(secret + "\n"));
        return secret;
    }

    /// <summary>Decodes a secret; false unless it is base64 of at least 16 bytes.</summary>
    public static bool TryDecode(string? secret, out byte[] key)
    {
        key = [];
        if (string.IsNullOrEmpty(secret))
        {
            return false;
        }
        var buffer = new byte[secret.Length];
        if (!Convert.TryFromBase64String(secret, buffer, out var written) || written < 16)
        {
            return false;
        }
        key = buffer[..written];
        return true;
    }
}
