using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Lb.Core.Spec;

/// <summary>
/// A VIP as an IPv4 host address with the prefix length of its subnet, e.g. <c>10.0.0.100/24</c>. Unlike a network
/// prefix, the host bits are kept: they are the address the leader owns.
/// </summary>
/// <param name="Address">The IPv4 address.</param>
/// <param name="PrefixLength">0–32.</param>
public sealed record VipCidr(IPAddress Address, int PrefixLength)
{
    /// <summary>The reference's message for a value that is not <c>address/prefix</c>.</summary>
    public const string NotCidrMessage = "vip address must be CIDR";

    /// <summary>The reference's message for an IPv6 value.</summary>
    public const string NotIpv4Message = "vip address must be IPv4";

    /// <summary>Parses <c>a.b.c.d/n</c>; on failure <paramref name="error"/> holds the reference's message.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out VipCidr? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1
            || !IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            || prefix > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
            // IPAddress.TryParse accepts shorthands such as "10.1" and scope ids; a CIDR must be spelled out.
            || (address.AddressFamily == AddressFamily.InterNetwork && text.AsSpan(0, slash).Count('.') != 3))
        {
            error = NotCidrMessage;
            return false;
        }
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            error = NotIpv4Message;
            return false;
        }
        value = new VipCidr(address, prefix);
        error = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Address}/{PrefixLength}";
}
