using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Tests;

/// <summary>
/// Network namespaces for one test, created with <c>ip</c> and deleted on dispose (also when the test fails).
/// Addresses come from 10.250.13.0/24, used only inside these namespaces. Code runs inside a namespace on a
/// dedicated thread that <c>setns</c>-es into it, so the driver under test is the real one, unmodified.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    public const string Subnet = "10.250.13";
    private static int s_counter;
    private readonly List<string> _namespaces = [];
    private readonly string _prefix = $"lbv{Environment.ProcessId % 100000}x{Interlocked.Increment(ref s_counter)}";

    /// <summary>Why namespaces cannot be used here, or null when they can.</summary>
    public static string? Unavailable { get; } = Probe();

    public string Create(string name)
    {
        var full = $"{_prefix}{name}";
        Ip($"netns add {full}");
        _namespaces.Add(full);
        Ip($"-n {full} link set lo up");
        return full;
    }

    /// <summary>A veth pair between two namespaces, both ends up, with the given /24 host numbers.</summary>
    public void Link(string nsA, string ifA, int hostA, string nsB, string ifB, int hostB)
    {
        Ip($"-n {nsA} link add {ifA} type veth peer name {ifB} netns {nsB}");
        Ip($"-n {nsA} addr add {Subnet}.{hostA}/24 dev {ifA}");
        Ip($"-n {nsB} addr add {Subnet}.{hostB}/24 dev {ifB}");
        Ip($"-n {nsA} link set {ifA} up");
        Ip($"-n {nsB} link set {ifB} up");
    }

    /// <summary>A bridge <paramref name="bridge"/> inside <paramref name="ns"/>, up (no STP: ports forward at once).</summary>
    public void Bridge(string ns, string bridge)
    {
        Ip($"-n {ns} link add {bridge} type bridge");
        Ip($"-n {ns} link set {bridge} up");
    }

    /// <summary>
    /// Plugs <paramref name="ns"/> into <paramref name="bridge"/> in <paramref name="switchNs"/>: a veth pair whose
    /// end <paramref name="dev"/> in <paramref name="ns"/> gets <paramref name="cidr"/>; the switch end is named <paramref name="port"/>.
    /// </summary>
    public void Attach(string switchNs, string bridge, string port, string ns, string dev, string cidr)
    {
        Ip($"-n {ns} link add {dev} type veth peer name {port} netns {switchNs}");
        Ip($"-n {switchNs} link set {port} master {bridge} up");
        Ip($"-n {ns} addr add {cidr} dev {dev}");
        Ip($"-n {ns} link set {dev} up");
    }

    /// <summary>IPv4 addresses with prefix lengths on <paramref name="dev"/>, read back with <c>ip -j addr</c>.</summary>
    public IReadOnlyList<string> Addresses(string ns, string dev)
    {
        using var doc = JsonDocument.Parse(Ip($"-n {ns} -j addr show dev {dev}"));
        return [.. doc.RootElement.EnumerateArray()
            .SelectMany(i => i.GetProperty("addr_info").EnumerateArray())
            .Where(a => a.GetProperty("family").GetString() == "inet")
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")];
    }

    /// <summary>The kernel's remaining valid lifetime of <paramref name="cidr"/> in seconds (4294967295 = forever).</summary>
    public long ValidLifetime(string ns, string dev, string cidr)
    {
        using var doc = JsonDocument.Parse(Ip($"-n {ns} -j addr show dev {dev}"));
        return doc.RootElement.EnumerateArray()
            .SelectMany(i => i.GetProperty("addr_info").EnumerateArray())
            .Single(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}" == cidr)
            .GetProperty("valid_life_time").GetInt64();
    }

    public string Mac(string ns, string dev)
    {
        using var doc = JsonDocument.Parse(Ip($"-n {ns} -j link show dev {dev}"));
        return doc.RootElement[0].GetProperty("address").GetString()!;
    }

    public int Index(string ns, string dev)
    {
        using var doc = JsonDocument.Parse(Ip($"-n {ns} -j link show dev {dev}"));
        return doc.RootElement[0].GetProperty("ifindex").GetInt32();
    }

    /// <summary>Runs <paramref name="action"/> on a thread inside <paramref name="ns"/>.</summary>
    public static T In<T>(string ns, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(ns);
                result = action();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        return result;
    }

    public static void In(string ns, Action action) => In(ns, () => { action(); return 0; });

    /// <summary>Moves the calling thread into <paramref name="ns"/> (sockets it creates from then on live there).</summary>
    public static unsafe void Enter(string ns)
    {
        var path = Encoding.UTF8.GetBytes($"/var/run/netns/{ns}\0");
        int fd;
        fixed (byte* p = path)
        {
            fd = open(p, O_RDONLY | O_CLOEXEC, 0);
        }
        if (fd < 0)
        {
            throw new InvalidOperationException($"open netns {ns}: errno {errno}");
        }
        try
        {
            if (setns(fd, CLONE_NEWNET) != 0)
            {
                throw new InvalidOperationException($"setns {ns}: errno {errno}");
            }
        }
        finally
        {
            close(fd);
        }
    }

    public static string Ip(string arguments)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {arguments}: exit {p.ExitCode}: {stderr.Trim()}");
        }
        return stdout.Result;
    }

    public void Dispose()
    {
        foreach (var ns in _namespaces)
        {
            try
            {
                // Whatever a failed test left running in these namespaces (names unique to this run) goes first.
                foreach (var pid in Ip($"netns pids {ns}").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    kill(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture), SIGCONT);
                    kill(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture), SIGKILL);
                }
                Ip($"netns del {ns}");
            }
            catch (InvalidOperationException)
            {
                // Already gone; nothing else to clean.
            }
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }
        if (geteuid() != 0)
        {
            return "network namespaces need root (CI runs as root)";
        }
        var name = $"lbvprobe{Environment.ProcessId}";
        try
        {
            Ip($"netns add {name}");
            Ip($"netns del {name}");
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot create a network namespace here ({ex.Message}); install iproute2 and run as root";
        }
    }
}
