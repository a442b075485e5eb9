using System.Diagnostics;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.Vip.Tests;

/// <summary>
/// The reference server, as an operator runs it, inside a network namespace: a standalone node leads, so it owns the
/// VIP from app.json while it runs and gives it back on SIGTERM.
/// </summary>
public sealed class ServerInNamespaceTests : IDisposable
{
    private const string Vip = $"{NetnsLab.Subnet}.100/24";
    private readonly NetnsLab _lab = new();
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task A_standalone_server_owns_the_vip_from_app_json_serves_through_it_and_releases_it_on_sigterm()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        var node = _lab.Create("snode");
        var peer = _lab.Create("speer");
        _lab.Link(node, "vnode", 1, peer, "vpeer", 2);
        using var capture = ArpCapture.Open(peer, _lab.Index(peer, "vpeer"));
        var appJson = Path.Combine(_dir.Path, "app.json");
        await File.WriteAllTextAsync(appJson, $$"""
            { "proxyListenAddr": ":8080", "dashboardListenAddr": "127.0.0.1:9090", "raftDataDir": "{{Path.Combine(_dir.Path, "data")}}",
              "nodeId": "vip-1", "vipInterface": "vnode", "vipAddress": "{{Vip}}" }
            """, TestContext.Current.CancellationToken);

        using var server = Start(node, "serve", appJson);
        try
        {
            await Until(() => _lab.Addresses(node, "vnode").Contains(Vip), "the VIP on vnode", server);
            var mac = _lab.Mac(node, "vnode");
            var frames = capture.Drain(TimeSpan.FromMilliseconds(500));
            Assert.Contains(frames, f => f.SenderMac == mac && f.SenderIp.ToString() == $"{NetnsLab.Subnet}.100" && f.Operation == 2);

            // The proxy answers through the VIP (404: no routes yet).
            Assert.Equal("404", Curl(peer, "-o", "/dev/null", "-w", "%{http_code}", $"http://{NetnsLab.Subnet}.100:8080/"));

            using var status = JsonDocument.Parse(Curl(node, $"http://127.0.0.1:9090/api/status"));
            var vip = status.RootElement.GetProperty("vip");
            Assert.True(vip.GetProperty("enabled").GetBoolean());
            Assert.True(vip.GetProperty("owned").GetBoolean());
            Assert.Equal("vnode", vip.GetProperty("interface").GetString());
            Assert.Equal(Vip, vip.GetProperty("address").GetString());
            Assert.True(vip.TryGetProperty("last_transition_at", out _));
            using var cluster = JsonDocument.Parse(Curl(node, $"http://127.0.0.1:9090/api/cluster"));
            Assert.True(cluster.RootElement.GetProperty("vip").GetProperty("owned").GetBoolean());
            Assert.Contains("lb_vip_owned 1", Curl(node, "http://127.0.0.1:9090/metrics"), StringComparison.Ordinal);

            Assert.Equal(0, Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGTERM));
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await server.WaitForExitAsync(exited.Token);

            Assert.Equal(0, server.ExitCode);
            Assert.DoesNotContain(Vip, _lab.Addresses(node, "vnode"));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task A_frozen_server_loses_the_vip_to_the_kernel_lifetime_takes_it_back_when_thawed_and_a_killed_one_leaves_none()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        var node = _lab.Create("fnode");
        var peer = _lab.Create("fpeer");
        _lab.Link(node, "vnode", 1, peer, "vpeer", 2);
        var appJson = Path.Combine(_dir.Path, "app.json");
        await File.WriteAllTextAsync(appJson, $$"""
            { "proxyListenAddr": ":8080", "dashboardListenAddr": "127.0.0.1:9090", "raftDataDir": "{{Path.Combine(_dir.Path, "data")}}",
              "vipInterface": "vnode", "vipAddress": "{{Vip}}" }
            """, TestContext.Current.CancellationToken);
        using var server = Start(node, "serve", appJson);
        try
        {
            await Until(() => _lab.Addresses(node, "vnode").Contains(Vip), "the VIP on vnode", server);

            // SIGSTOP: no code of the server runs, yet the kernel drops the address when its lifetime runs out.
            Assert.Equal(0, Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGSTOP));
            await Until(() => !_lab.Addresses(node, "vnode").Contains(Vip), "the kernel dropping the VIP of the frozen server", server);
            Assert.Contains("State:\tT", await File.ReadAllTextAsync($"/proc/{server.Id}/status", TestContext.Current.CancellationToken), StringComparison.Ordinal);

            // Thawed, it still holds its (standalone) lease: the next renewal puts the address back.
            Assert.Equal(0, Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGCONT));
            await Until(() => _lab.Addresses(node, "vnode").Contains(Vip), "the VIP back after SIGCONT", server);

            // SIGKILL: nothing removes it but the kernel.
            server.Kill();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (_lab.Addresses(node, "vnode").Contains(Vip) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            Assert.DoesNotContain(Vip, _lab.Addresses(node, "vnode"));
        }
        finally
        {
            if (!server.HasExited)
            {
                Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGCONT);
                server.Kill(entireProcessTree: true);
            }
        }
    }

    private static Process Start(string ns, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", ns, "dotnet", RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"), .. args])
        {
            info.ArgumentList.Add(a);
        }
        // `ip netns exec` execs the command: this process id is the server's.
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Curl(string ns, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", ns, "curl", "-s", "--max-time", "5", .. args])
        {
            info.ArgumentList.Add(a);
        }
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    private static async Task Until(Func<bool> condition, string what, Process server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (server.HasExited)
            {
                Assert.Fail($"the server exited ({server.ExitCode}) before {what}");
            }
            Assert.True(DateTime.UtcNow < deadline, $"never happened: {what}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public void Dispose()
    {
        _lab.Dispose();
        _dir.Dispose();
    }
}
