using System.Text;
using Lb.AspNetCore.FastPath;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// The fast path's parser checks header names, values and Host against byte classes (vectorized set lookups). Every one
/// of the 256 byte values lands where RFC 9110 puts it.
/// </summary>
public sealed class HttpHeadCharClassTests
{
    private const string Delimiters = "!#$%&'*+-.^_`|~";

    [Fact]
    public void A_header_name_byte_is_accepted_exactly_when_it_is_an_RFC_9110_tchar()
    {
        for (var b = 0; b < 256; b++)
        {
            var tchar = b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || Delimiters.Contains((char)b, StringComparison.Ordinal));
            Assert.True(tchar == HttpHead.IsToken([(byte)b]), $"byte 0x{b:X2}");
            Assert.True(tchar == HttpHead.IsToken([(byte)'X', (byte)b, .. "-Long-Header-Name-Over-16"u8]), $"byte 0x{b:X2} in a long name");
        }
        Assert.False(HttpHead.IsToken([]));
    }

    [Fact]
    public void A_header_value_byte_is_refused_exactly_when_it_is_a_control_other_than_tab_or_DEL()
    {
        for (var b = 0; b < 256; b++)
        {
            var refused = (b < 0x20 && b != '\t') || b == 0x7F;
            var status = Parse([.. "GET / HTTP/1.1\r\nHost: h\r\nX-V: a"u8, (byte)b, .. "b-and-more-than-sixteen-bytes\r\n\r\n"u8]);
            Assert.True(refused == (status == 400), $"byte 0x{b:X2}: status {status}");
        }
    }

    [Fact]
    public void A_Host_byte_is_accepted_exactly_when_it_belongs_to_a_host_name_IP_literal_or_port()
    {
        for (var b = 0; b < 256; b++)
        {
            var hostByte = b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || "-.:[]_~%".Contains((char)b, StringComparison.Ordinal));
            var status = Parse([.. "GET / HTTP/1.1\r\nHost: h"u8, (byte)b, .. "x\r\n\r\n"u8]);
            Assert.True(hostByte == (status == 0), $"byte 0x{b:X2}: status {status}");
        }
    }

    private static int Parse(byte[] head)
    {
        var parsed = new HttpHead(8192, 64);
        head.CopyTo(parsed.Buffer, 0);
        return parsed.ParseRequest(head.Length, 4096, 8192, Encoding.ASCII.GetBytes("x-lb-node"));
    }
}
