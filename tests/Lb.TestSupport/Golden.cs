using System.Runtime.CompilerServices;
using System.Text;
using Xunit;

namespace Lb.TestSupport;

/// <summary>
/// Compares output against a committed file under <c>golden/</c> in the calling test project. On a mismatch it writes
/// <c>NAME.received.json</c> beside the golden file and fails with the first differing lines. Set
/// <c>LB_UPDATE_GOLDEN=1</c> to accept the received output as the new golden file.
/// </summary>
public static class Golden
{
    public static void AssertMatches(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(ProjectDirectory(callerFile), "golden");
        var goldenPath = Path.Combine(directory, name + ".json");
        var receivedPath = Path.Combine(directory, name + ".received.json");
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable("LB_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(goldenPath, actual);
            File.Delete(receivedPath);
            return;
        }
        if (!File.Exists(goldenPath))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"No golden file {goldenPath}. Review {receivedPath} and rename it (or run with LB_UPDATE_GOLDEN=1).");
        }
        var expected = Normalize(File.ReadAllText(goldenPath));
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"Output differs from {goldenPath} (received: {receivedPath}).\n{Diff(expected, actual)}");
    }

    /// <summary>
    /// The test project's source folder. The caller's file path works in a local build, but CI builds map source
    /// paths (<c>/_/</c>), so fall back to the output folder's grandparent (<c>bin/&lt;Configuration&gt;/&lt;tfm&gt;</c>).
    /// </summary>
    private static string ProjectDirectory(string callerFile)
    {
        var fromCaller = Path.GetDirectoryName(callerFile);
        if (fromCaller is not null && Directory.Exists(fromCaller) && Directory.EnumerateFiles(fromCaller, "*.csproj").Any())
        {
            return fromCaller;
        }
        return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", ".."));
    }

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n";

    /// <summary>The first few differing lines, marked - (golden) and + (received).</summary>
    public static string Diff(string expected, string actual, int maxLines = 12)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var sb = new StringBuilder();
        var shown = 0;
        for (var i = 0; i < Math.Max(e.Length, a.Length) && shown < maxLines; i++)
        {
            var el = i < e.Length ? e[i] : null;
            var al = i < a.Length ? a[i] : null;
            if (el == al)
            {
                continue;
            }
            if (el is not null)
            {
                sb.Append("line ").Append(i + 1).Append(" - ").AppendLine(el);
            }
            if (al is not null)
            {
                sb.Append("line ").Append(i + 1).Append(" + ").AppendLine(al);
            }
            shown++;
        }
        return sb.ToString();
    }
}

/// <summary>A directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lb-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
