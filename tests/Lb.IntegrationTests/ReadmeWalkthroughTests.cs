using System.Diagnostics;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// The README's "Try it" walkthrough, run as a user runs it: its shell blocks in order, in bash, from the repository
/// root, with the real <c>dotnet run</c>. It runs in a network namespace of its own so its fixed ports (3000, 3001,
/// 8080, 9090) cannot clash with anything else on the machine, and in this test build's configuration so
/// <c>dotnet run</c> finds the projects already built. It runs alone: its builds would load the machine under the
/// timing-sensitive tests.
/// </summary>
[Collection(nameof(ReadmeWalkthroughTests))]
public sealed partial class ReadmeWalkthroughTests
{
    [Fact]
    public async Task The_readme_walkthrough_runs_as_written_from_the_repository_root_and_leaves_git_status_clean()
    {
        var root = RepoPaths.Root();
        var script = WalkthroughScript(await File.ReadAllTextAsync(Path.Combine(root, "README.md"), TestContext.Current.CancellationToken));
        Assert.Contains("config put", script, StringComparison.Ordinal);
        var statusBefore = await GitStatusAsync(root);

        var file = Path.Combine(Path.GetTempPath(), $"lb-walkthrough-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(file, script, TestContext.Current.CancellationToken);
        // setsid: the walkthrough and everything it starts form one process group the test can end whatever happens.
        var info = new ProcessStartInfo("setsid") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["unshare", "--net", "bash", "-c", $"ip link set lo up && exec bash -e {file}"])
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove("LB_ADMIN_TOKEN");
        info.Environment["Configuration"] = RepoPaths.Configuration();
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            // A bound for a hung walkthrough, not a speed requirement.
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(8), TestContext.Current.CancellationToken);
            var (output, errors) = (await stdout, await stderr);
            var transcript = $"exit {process.ExitCode}\n--- stdout\n{output}\n--- stderr\n{errors}";
            Assert.True(process.ExitCode == 0, transcript);
            Assert.Contains("valid (1 routes, 1 pools", output, StringComparison.Ordinal);
            Assert.Contains("\"version\":", output, StringComparison.Ordinal);
            var answers = output.Split('\n').Where(l => l.StartsWith("backend-", StringComparison.Ordinal) && !l.Contains("/health", StringComparison.Ordinal)).ToArray();
            // Round robin over both while healthy, then only the healthy one.
            Assert.True(answers.Length == 4, transcript);
            Assert.Equal(["backend-3000", "backend-3001"], answers[..2].Order());
            Assert.Equal(["backend-3000", "backend-3000"], answers[2..]);
            // The published executable is called lb and runs the same commands.
            Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("valid (1 routes, 1 pools", StringComparison.Ordinal)));
            Assert.Contains("Usage:\n  lb [command] [options]", output, StringComparison.Ordinal);
        }
        finally
        {
            Signals.SendToGroup(process.Id, Signals.SigKill);
            File.Delete(file);
        }
        // Config file and data directory land in the repository root, where .gitignore covers them.
        Assert.Equal(statusBefore, await GitStatusAsync(root));
    }

    /// <summary>The <c>sh</c> blocks of the README's "Try it" and "The lb command" sections, in order.</summary>
    internal static string WalkthroughScript(string readme) =>
        string.Join("\n", ((string[])["### Try it", "### The `lb` command"]).Select(heading =>
        {
            var start = readme.IndexOf(heading, StringComparison.Ordinal);
            Assert.True(start >= 0, $"README.md has no '{heading}' section");
            var next = NextHeading().Match(readme, start + 1);
            var section = next.Success ? readme[start..next.Index] : readme[start..];
            return string.Join("\n", ShellBlock().Matches(section).Select(m => m.Groups[1].Value));
        }));

    private static async Task<string> GitStatusAsync(string root)
    {
        var info = new ProcessStartInfo("git", ["status", "--porcelain", "--untracked-files=all"]) { WorkingDirectory = root, RedirectStandardOutput = true, UseShellExecute = false };
        using var git = Process.Start(info)!;
        var text = await git.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await git.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, git.ExitCode);
        return text;
    }

    [GeneratedRegex(@"^#{1,3} ", RegexOptions.Multiline)]
    private static partial Regex NextHeading();

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}

/// <summary>Runs <see cref="ReadmeWalkthroughTests"/> after the parallel tests, not beside them.</summary>
[CollectionDefinition(nameof(ReadmeWalkthroughTests), DisableParallelization = true)]
public sealed class ReadmeWalkthroughCollection;
