using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Lb.Core.Spec;
using Microsoft.Extensions.Options;

namespace Lb.Core.Options;

/// <summary>Checks <see cref="LbNodeOptions"/> on start; every message names the setting and the fix.</summary>
internal sealed class LbNodeOptionsValidator : IValidateOptions<LbNodeOptions>
{
    public ValidateOptionsResult Validate(string? name, LbNodeOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary><c>localhost</c>, <c>127.0.0.0/8</c> or <c>::1</c>.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The Raft TLS files load: a certificate with its matching key, and at least one CA certificate.</summary>
    private static void CheckRaftTlsFiles(LbNodeOptions o, List<string> failures)
    {
        try
        {
            using var own = X509Certificate2.CreateFromPemFile(o.RaftTlsCertificate, o.RaftTlsKey);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            failures.Add($"raftTlsCertificate '{o.RaftTlsCertificate}' and raftTlsKey '{o.RaftTlsKey}' do not load as a PEM certificate with its matching private key ({ex.Message})");
        }
        try
        {
            var ca = new X509Certificate2Collection();
            ca.ImportFromPemFile(o.RaftTlsCa);
            if (ca.Count == 0)
            {
                failures.Add($"raftTlsCa '{o.RaftTlsCa}' holds no certificate; give the cluster CA certificate as PEM");
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            failures.Add($"raftTlsCa '{o.RaftTlsCa}' does not load as a PEM certificate ({ex.Message}); give the cluster CA certificate as PEM");
        }
    }

    public static List<string> Check(LbNodeOptions o)
    {
        var failures = new List<string>();
        o.ApplyDefaults();
        if (!ListenAddress.TryParse(o.ProxyListenAddr, out _, out var e1))
        {
            failures.Add($"proxyListenAddr '{o.ProxyListenAddr}' {e1}");
        }
        if (!ListenAddress.TryParse(o.DashboardListenAddr, out _, out var e2))
        {
            failures.Add($"dashboardListenAddr '{o.DashboardListenAddr}' {e2}");
        }
        if (ListenAddress.TryParse(o.DashboardListenAddr, out var admin, out _) && ListenAddress.TryParse(o.ProxyListenAddr, out var proxy, out _) && proxy!.Port == admin!.Port && proxy.Port != 0
            && (proxy.Host == admin.Host || proxy.Host.Length == 0 || admin.Host.Length == 0))
        {
            failures.Add($"proxyListenAddr '{o.ProxyListenAddr}' and dashboardListenAddr '{o.DashboardListenAddr}' are the same port; the admin API needs a port of its own, e.g. \":9090\"");
        }
        if (o.DataDir.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"dataDir '{o.DataDir}' is not a valid path");
        }
        if (!o.NodeHeader.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
        {
            failures.Add($"nodeHeader '{o.NodeHeader}' is not an HTTP header name (letters, digits, '-'), e.g. \"X-Lb-Node\"");
        }
        if (o.NodeId.Length > 0 && (o.NodeId.Length > 128 || !o.NodeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            failures.Add($"nodeId '{o.NodeId}' must contain only letters, numbers, dot, underscore, or hyphen (at most 128)");
        }
        foreach (var (key, value) in new[] { ("raftListenAddr", o.RaftListenAddr), ("raftAdvertiseAddr", o.RaftAdvertiseAddr) })
        {
            if (value.Length > 0 && (!HostPort.TrySplit(value, out var h, out var p) || h.Length == 0 || !HostPort.TryParsePort(p, out _)))
            {
                failures.Add($"{key} '{value}' must be host:port with a port between 1 and 65535, e.g. \"10.0.0.11:7000\"");
            }
        }
        var raftTls = new[] { ("raftTlsCertificate", o.RaftTlsCertificate), ("raftTlsKey", o.RaftTlsKey), ("raftTlsCa", o.RaftTlsCa) };
        if (raftTls.Any(t => t.Item2.Length > 0) && raftTls.Any(t => t.Item2.Length == 0))
        {
            var missing = string.Join(", ", raftTls.Where(t => t.Item2.Length == 0).Select(t => t.Item1));
            failures.Add($"raftTlsCertificate, raftTlsKey and raftTlsCa go together but {missing} is empty: set all three (PEM files) for mutual TLS on the Raft port, or none for plain TCP");
        }
        foreach (var (key, path) in raftTls)
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                failures.Add($"{key} '{path}' does not exist; give the path of a PEM file");
            }
        }
        if (raftTls.All(t => t.Item2.Length > 0 && File.Exists(t.Item2)))
        {
            CheckRaftTlsFiles(o, failures);
        }
        if (!GoDuration.TryParse(o.DrainTimeout, out _, out var drainError))
        {
            failures.Add($"drainTimeout '{o.DrainTimeout}' {drainError}; e.g. \"30s\"");
        }
        if (o.VipInterface.Length > 0 && (o.VipInterface.Length > 15 || o.VipInterface.Any(c => c is '/' or ' ' or ':' || char.IsControl(c))))
        {
            failures.Add($"vipInterface '{o.VipInterface}' is not a Linux interface name (at most 15 characters, no '/', ':' or spaces)");
        }
        if (o.VipAddress.Length > 0 && !VipCidr.TryParse(o.VipAddress, out _, out var vipError))
        {
            failures.Add($"vipAddress '{o.VipAddress}': {vipError}; give an IPv4 address with its prefix length, e.g. \"10.0.0.100/24\"");
        }
        if (o.VipAddress.Length > 0 && o.VipInterface.Length == 0)
        {
            failures.Add("vipAddress is set but vipInterface is empty; set vipInterface to the interface that carries the VIP, e.g. \"eth0\"");
        }
        if (o.ConfigHistoryLimit is < 1 or > 10_000)
        {
            failures.Add($"configHistoryLimit {o.ConfigHistoryLimit} must be between 1 and 10000 (default 50)");
        }
        foreach (var (key, value) in new[] { ("maxProxyConnections", o.MaxProxyConnections), ("maxAdminConnections", o.MaxAdminConnections) })
        {
            if (value < 0)
            {
                failures.Add($"{key} {value} must be 0 (derive from the descriptor limit) or a positive number of connections");
            }
        }
        if (!GoDuration.TryParse(o.KeepAliveTimeout, out var keepAlive, out _) || keepAlive <= TimeSpan.Zero)
        {
            failures.Add($"keepAliveTimeout '{o.KeepAliveTimeout}' must be a positive duration such as \"75s\" or \"2m\"");
        }
        return failures;
    }
}
