using System.Net;
using Lb.Core.Spec;

namespace Lb.Core.Options;

/// <summary>A parsed Go-style listen address (<c>":8080"</c>, <c>"127.0.0.1:0"</c>, <c>"[::1]:9090"</c>).</summary>
/// <param name="Host">The host; empty means every interface.</param>
/// <param name="Port">The port; 0 asks the OS for a free one.</param>
public sealed record ListenAddress(string Host, int Port)
{
    /// <summary>Parses <paramref name="value"/>; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? value, out ListenAddress? address, out string? error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(value) || !HostPort.TrySplit(value, out var host, out var portText))
        {
            error = "must be host:port, e.g. \":8080\" or \"127.0.0.1:8080\"";
            return false;
        }
        if (portText != "0" && !HostPort.TryParsePort(portText, out _))
        {
            error = "port must be a number between 0 and 65535";
            return false;
        }
        if (host.Length > 0 && host != "localhost" && !IPAddress.TryParse(host, out _) && !HostNames.IsDnsName(host))
        {
            error = "host must be empty, an IP address or a host name";
            return false;
        }
        address = new ListenAddress(host, int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture));
        error = null;
        return true;
    }

    /// <summary>The URL form Kestrel understands (<c>http://0.0.0.0:8080</c> style; empty host = all interfaces).</summary>
    public string ToUrl() => Host.Length == 0
        ? $"http://*:{Port}"
        : Host.Contains(':', StringComparison.Ordinal) ? $"http://[{Host}]:{Port}" : $"http://{Host}:{Port}";
}
