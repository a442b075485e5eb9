using System.Net;
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
        if (o.RaftDataDir.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"raftDataDir '{o.RaftDataDir}' is not a valid path");
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
        if (o.AdminToken.Length is > 0 and < 16)
        {
            failures.Add("adminToken must be at least 16 characters; generate one with: openssl rand -hex 24");
        }
        if (o.AdminReadRequiresToken && o.AdminToken.Length == 0)
        {
            failures.Add("adminReadRequiresToken is set but adminToken is empty; set adminToken too");
        }
        if (o.VipInterface.Length > 0 && (o.VipInterface.Length > 15 || o.VipInterface.Any(c => c is '/' or ' ' or ':' || char.IsControl(c))))
        {
            failures.Add($"vipInterface '{o.VipInterface}' is not a Linux interface name (at most 15 characters, no '/', ':' or spaces)");
        }
        if ((o.ProxyTlsCertificate.Length > 0) != (o.ProxyTlsKey.Length > 0))
        {
            failures.Add("proxyTlsCertificate and proxyTlsKey go together: set both (PEM files) for HTTPS, or neither for plain HTTP");
        }
        foreach (var (key, path) in new[] { ("proxyTlsCertificate", o.ProxyTlsCertificate), ("proxyTlsKey", o.ProxyTlsKey) })
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                failures.Add($"{key} '{path}' does not exist; give the path of a PEM file");
            }
        }
        if (o.ConfigHistoryLimit is < 1 or > 10_000)
        {
            failures.Add($"configHistoryLimit {o.ConfigHistoryLimit} must be between 1 and 10000 (default 50)");
        }
        for (var i = 0; i < o.TrustedProxies.Count; i++)
        {
            if (!IPNetwork.TryParse(o.TrustedProxies[i], out _) && !IPAddress.TryParse(o.TrustedProxies[i], out _))
            {
                failures.Add($"trustedProxies[{i}] '{o.TrustedProxies[i]}' must be an IP address or CIDR range such as \"10.0.0.0/8\"");
            }
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
