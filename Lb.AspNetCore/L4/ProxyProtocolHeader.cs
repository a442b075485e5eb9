using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Core.Spec;

namespace Lb.AspNetCore.L4;

/// <summary>
/// Writes the PROXY protocol header (HAProxy's spec, versions 1 and 2) a target reads before the client's bytes:
/// the client's address and port and the address and port it connected to. IPv4-mapped IPv6 addresses (a listener
/// bound to every interface sees IPv4 clients that way) are written as IPv4; mixed families are sent as unknown.
/// </summary>
internal static class ProxyProtocolHeader
{
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static byte[] Build(string version, IPEndPoint? client, IPEndPoint? local)
    {
        var source = Unmap(client);
        var destination = Unmap(local);
        var family = source is not null && destination is not null && source.AddressFamily == destination.AddressFamily
            ? source.AddressFamily
            : AddressFamily.Unspecified;
        return version == ProxyProtocolVersions.V2 ? V2(family, source, destination) : V1(family, source, destination);
    }

    private static byte[] V1(AddressFamily family, IPEndPoint? source, IPEndPoint? destination)
    {
        if (family == AddressFamily.Unspecified)
        {
            return "PROXY UNKNOWN\r\n"u8.ToArray();
        }
        var protocol = family == AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"PROXY {protocol} {source!.Address} {destination!.Address} {source.Port} {destination.Port}\r\n"));
    }

    private static byte[] V2(AddressFamily family, IPEndPoint? source, IPEndPoint? destination)
    {
        var addressLength = family switch
        {
            AddressFamily.InterNetwork => 12,
            AddressFamily.InterNetworkV6 => 36,
            _ => 0,
        };
        var header = new byte[16 + addressLength];
        V2Signature.CopyTo(header, 0);
        header[12] = 0x21; // version 2, command PROXY
        header[13] = family switch
        {
            AddressFamily.InterNetwork => 0x11, // TCP over IPv4
            AddressFamily.InterNetworkV6 => 0x21, // TCP over IPv6
            _ => 0x00, // unspecified: the target uses the connection's own addresses
        };
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)addressLength);
        if (addressLength > 0)
        {
            var half = (addressLength - 4) / 2;
            source!.Address.TryWriteBytes(header.AsSpan(16, half), out _);
            destination!.Address.TryWriteBytes(header.AsSpan(16 + half, half), out _);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + (2 * half)), (ushort)source.Port);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(18 + (2 * half)), (ushort)destination.Port);
        }
        return header;
    }

    private static IPEndPoint? Unmap(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
