using System.Net;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.Options;

/// <summary>Checks <see cref="ProxyOptions"/> on start; every message names the setting and the fix.</summary>
internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var failures = new List<string>();
        if ((options.ProxyTlsCertificate.Length > 0) != (options.ProxyTlsKey.Length > 0))
        {
            failures.Add("proxyTlsCertificate and proxyTlsKey go together: set both (PEM files) for HTTPS, or neither for plain HTTP");
        }
        foreach (var (key, path) in new[] { ("proxyTlsCertificate", options.ProxyTlsCertificate), ("proxyTlsKey", options.ProxyTlsKey) })
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                failures.Add($"{key} '{path}' does not exist; give the path of a PEM file");
            }
        }
        if (options.AccessLogFormat is not ("text" or "json" or ""))
        {
            failures.Add($"accessLogFormat '{options.AccessLogFormat}' must be \"text\" or \"json\"");
        }
        if (options.AccessLogPath.Length > 0 && options.AccessLogFormat != "json")
        {
            failures.Add("accessLogPath is only used with accessLogFormat \"json\"; set both, or remove accessLogPath");
        }
        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!IPNetwork.TryParse(options.TrustedProxies[i], out _) && !IPAddress.TryParse(options.TrustedProxies[i], out _))
            {
                failures.Add($"trustedProxies[{i}] '{options.TrustedProxies[i]}' must be an IP address or CIDR range such as \"10.0.0.0/8\"");
            }
        }
        if (options.MinResponseDataRate < 0)
        {
            failures.Add($"minResponseDataRate {options.MinResponseDataRate} must be 0 (off) or a rate in bytes per second such as {ProxyOptions.DefaultMinResponseDataRate}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
