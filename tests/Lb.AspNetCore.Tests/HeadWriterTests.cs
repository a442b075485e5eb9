using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Lb.AspNetCore.FastPath;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// The fast path writes rewritten heads through <see cref="HeadWriter"/> (one span, one advance). Its size bound is an
/// estimate: whatever the bound, the pipe must receive exactly the pieces, in order.
/// </summary>
public sealed class HeadWriterTests
{
    [Theory]
    [InlineData(1024)] // fits
    [InlineData(10)] // the bound is too small: spills part way
    [InlineData(0)]
    [InlineData(HeadWriter.MaxDirect + 1)] // above the direct limit: piece by piece from the start
    public async Task The_pipe_receives_every_piece_in_order_whatever_the_bound(int bound)
    {
        var pipe = new Pipe();
        Write(pipe.Writer, bound);
        await pipe.Writer.FlushAsync(TestContext.Current.CancellationToken);
        pipe.Writer.Complete();

        var text = await ReadAllAsync(pipe.Reader);

        Assert.Equal("GET /a HTTP/1.1\r\nCookie: k=v; é\r\nSet-Cookie: ü=1\r\n" + new string('x', 300) + "\r\n\r\n", text);
    }

    private static void Write(PipeWriter pipe, int bound)
    {
        var w = new HeadWriter(pipe, bound);
        w.Write("GET /a HTTP/1.1\r\n"u8);
        w.Write("Cookie: "u8);
        w.WriteLatin1("k=v; é");
        w.Write("\r\nSet-Cookie: "u8);
        w.WriteUtf8("ü=1");
        w.Write("\r\n"u8);
        w.Write(Encoding.ASCII.GetBytes(new string('x', 300)));
        w.Write("\r\n\r\n"u8);
        w.Commit();
    }

    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync(TestContext.Current.CancellationToken);
            if (result.IsCompleted)
            {
                // Latin-1 for the Cookie piece, UTF-8 for the Set-Cookie piece: decode each as written.
                var bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                var cookieEnd = Array.IndexOf(bytes, (byte)'\r', 17);
                return Encoding.Latin1.GetString(bytes, 0, cookieEnd) + Encoding.UTF8.GetString(bytes, cookieEnd, bytes.Length - cookieEnd);
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
