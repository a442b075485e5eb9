using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// What a package user does: pack the six libraries into a local feed, start a fresh <c>dotnet new web</c> project
/// outside this repository (so none of our build settings apply), add <c>Lb.AspNetCore</c> from that feed, paste the
/// host from its README, run it, configure it through its admin API and send traffic through it.
/// </summary>
public sealed partial class PackageConsumerTests : IDisposable
{
    private static readonly string[] Packages = ["Lb.Core", "Lb.Routing", "Lb.Balancing", "Lb.Raft", "Lb.Vip", "Lb.AspNetCore"];

    private readonly TempDirectory _dir = new();

    // A version no earlier run used, so NuGet's global cache can never hand back a stale copy of our packages.
    private readonly string _version = $"0.1.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public void Dispose()
    {
        _dir.Dispose();
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in Packages)
        {
            var extracted = Path.Combine(cache, id.ToLowerInvariant(), _version);
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }
            var idDirectory = Path.GetDirectoryName(extracted)!;
            if (Directory.Exists(idDirectory) && !Directory.EnumerateFileSystemEntries(idDirectory).Any())
            {
                Directory.Delete(idDirectory);
            }
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    [GeneratedRegex(@"## Use it in your own host.*?```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ReadmeHost();

    [Fact]
    public async Task A_fresh_web_project_runs_the_readme_host_from_the_packed_packages()
    {
        var root = RepoRoot();
        var feed = Path.Combine(_dir.Path, "feed");
        var app = Path.Combine(_dir.Path, "app");

        // The solution is built by test.sh (or by hand) before the tests run; packing reuses that build.
        await DotnetAsync(root, "pack", "Lb.slnx", "-c", ConfigurationOfThisTest(), "--no-build", "-o", feed, $"-p:Version={_version}");
        foreach (var id in Packages)
        {
            AssertPackageContents(feed, id);
        }

        await DotnetAsync(_dir.Path, "new", "web", "-n", "ConsumerApp", "-o", app);
        // The local feed comes on top of the sources this machine is configured with (no <clear/>), which serve
        // YARP and Microsoft.Extensions.*.
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="lb-local-feed" value="{feed}" />
              </packageSources>
            </configuration>
            """, TestContext.Current.CancellationToken);
        await DotnetAsync(app, "add", "package", "Lb.AspNetCore", "--version", _version);

        var readme = await File.ReadAllTextAsync(Path.Combine(root, "Lb.AspNetCore", "README.md"), TestContext.Current.CancellationToken);
        var host = ReadmeHost().Match(readme);
        Assert.True(host.Success, "Lb.AspNetCore/README.md has no ```csharp block under '## Use it in your own host'");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), host.Groups[1].Value, TestContext.Current.CancellationToken);
        await DotnetAsync(app, "build", "-c", "Release");

        await using var backend = await TestBackend.StartAsync("consumer-backend");
        var info = NewDotnet(app);
        info.ArgumentList.Add(Path.Combine(app, "bin", "Release", "net10.0", "ConsumerApp.dll"));
        // The README host listens itself: proxy on Lb:ProxyPort (all interfaces), admin API on Lb:AdminPort (loopback).
        info.ArgumentList.Add("--Lb:ProxyPort=0");
        info.ArgumentList.Add("--Lb:AdminPort=0");
        info.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        info.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"); // prints the port the OS chose
        using var process = Process.Start(info)!;
        var output = new ProcessOutput(process);
        try
        {
            // Proxy listener first, admin listener second, in the order the README host declares them.
            var urls = await output.WaitForAsync(ListeningOn(), 2);
            using var proxy = new HttpClient { BaseAddress = new Uri(urls[0].Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)), Timeout = TimeSpan.FromSeconds(30) };
            using var client = new HttpClient { BaseAddress = new Uri(urls[1]), Timeout = TimeSpan.FromSeconds(30) };
            var config = """{"routes":[{"id":"r","enabled":true,"match":{"hosts":["consumer.test"]},"upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["ADDRESS"]}}}"""
                .Replace("ADDRESS", backend.Address, StringComparison.Ordinal);
            using var put = await client.PutAsync("/api/config", new StringContent(config, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync(TestContext.Current.CancellationToken) + output);

            using var request = new HttpRequestMessage(HttpMethod.Get, "/through/the/package");
            request.Headers.Host = "consumer.test";
            using var proxied = await proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
            Assert.Equal("consumer-backend /through/the/package", await proxied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal(1, backend.Requests);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Each package carries its README, XML docs and a symbols package; Lb.* dependencies are on the same version.</summary>
    private void AssertPackageContents(string feed, string id)
    {
        Assert.True(File.Exists(Path.Combine(feed, $"{id}.{_version}.snupkg")), $"{id}: no symbols package");
        using var zip = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{_version}.nupkg"));
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("README.md", entries);
        Assert.Contains($"lib/net10.0/{id}.dll", entries);
        Assert.Contains($"lib/net10.0/{id}.xml", entries);

        using var nuspecStream = zip.GetEntry($"{id}.nuspec")!.Open();
        var nuspec = XDocument.Load(nuspecStream);
        var lbDependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Where(e => ((string)e.Attribute("id")!).StartsWith("Lb.", StringComparison.Ordinal)).ToList();
        Assert.All(lbDependencies, d => Assert.Equal(_version, (string)d.Attribute("version")!));
        if (id == "Lb.AspNetCore")
        {
            Assert.Equal(["Lb.Balancing", "Lb.Core", "Lb.Routing"], lbDependencies.Select(d => (string)d.Attribute("id")!).Order(StringComparer.Ordinal));
        }
        else if (id != "Lb.Core")
        {
            Assert.Contains(lbDependencies, d => (string)d.Attribute("id")! == "Lb.Core");
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Lb.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    // The test assembly lives in .../bin/<Configuration>/net10.0/.
    private static string ConfigurationOfThisTest() => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    private static ProcessStartInfo NewDotnet(string workingDirectory)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // `dotnet test` sets MSBuild variables for its own build; a nested dotnet must find its SDK on its own.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild node or compiler server may outlive the test.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        info.Environment.Remove("LB_ADMIN_TOKEN");
        return info;
    }

    private static async Task DotnetAsync(string workingDirectory, params string[] args)
    {
        var info = NewDotnet(workingDirectory);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        // A bound for a hung tool on a loaded machine, not a speed requirement.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}
