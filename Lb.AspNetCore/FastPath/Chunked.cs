using System.Buffers;
using System.Buffers.Text;

namespace Lb.AspNetCore.FastPath;

internal enum ParseStep
{
    NeedMore,
    Done,
    Bad,
}

/// <summary>Strict chunked framing (RFC 9112 §7.1): hex sizes without sign, spaces or overflow; CRLF only; trailers parsed and dropped.</summary>
internal static class Chunked
{
    public const int MaxLine = 4096;

    /// <summary>Reads a chunk-size line (with extensions, which are checked and dropped).</summary>
    public static ParseStep TryReadSize(in ReadOnlySequence<byte> buffer, out long size, out SequencePosition consumed)
    {
        size = 0;
        consumed = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineSeq, (byte)'\n', advancePastDelimiter: true))
        {
            return buffer.Length > MaxLine ? ParseStep.Bad : ParseStep.NeedMore;
        }
        if (lineSeq.Length > MaxLine || lineSeq.Length < 2)
        {
            return ParseStep.Bad;
        }
        Span<byte> scratch = stackalloc byte[MaxLine];
        var line = lineSeq.IsSingleSegment ? lineSeq.FirstSpan : Copy(lineSeq, scratch);
        if (line[^1] != '\r')
        {
            return ParseStep.Bad;
        }
        line = line[..^1];
        var digits = 0;
        while (digits < line.Length && char.IsAsciiHexDigit((char)line[digits]))
        {
            digits++;
        }
        if (digits == 0 || digits > 15)
        {
            return ParseStep.Bad; // no size, or one past what a long can carry
        }
        if (!Utf8Parser.TryParse(line[..digits], out long parsed, out var used, 'X') || used != digits)
        {
            return ParseStep.Bad;
        }
        var ext = line[digits..];
        if (!ext.IsEmpty)
        {
            if (ext[0] != ';')
            {
                return ParseStep.Bad; // spaces, signs, "0x" and other junk after the digits
            }
            foreach (var b in ext)
            {
                if ((b < 0x20 && b != '\t') || b == 0x7F)
                {
                    return ParseStep.Bad;
                }
            }
        }
        size = parsed;
        consumed = reader.Position;
        return ParseStep.Done;
    }

    /// <summary>The CRLF after chunk data.</summary>
    public static ParseStep TryReadDataEnd(in ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        consumed = buffer.Start;
        if (buffer.Length < 2)
        {
            return buffer.Length == 1 && buffer.FirstSpan[0] != '\r' ? ParseStep.Bad : ParseStep.NeedMore;
        }
        Span<byte> two = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(two);
        if (two[0] != '\r' || two[1] != '\n')
        {
            return ParseStep.Bad;
        }
        consumed = buffer.GetPosition(2);
        return ParseStep.Done;
    }

    /// <summary>The trailer section after the last chunk, up to and including its empty line.</summary>
    public static ParseStep TryReadTrailers(in ReadOnlySequence<byte> buffer, int limit, out SequencePosition consumed)
    {
        consumed = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> scratch = stackalloc byte[MaxLine];
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> lineSeq, (byte)'\n', advancePastDelimiter: true))
            {
                return buffer.Length > limit ? ParseStep.Bad : ParseStep.NeedMore;
            }
            if (reader.Consumed > limit || lineSeq.Length > MaxLine || lineSeq.Length < 1)
            {
                return ParseStep.Bad;
            }
            var line = lineSeq.IsSingleSegment ? lineSeq.FirstSpan : Copy(lineSeq, scratch);
            if (line[^1] != '\r')
            {
                return ParseStep.Bad;
            }
            line = line[..^1];
            if (line.IsEmpty)
            {
                consumed = reader.Position;
                return ParseStep.Done;
            }
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !HttpHead.IsToken(line[..colon]))
            {
                return ParseStep.Bad;
            }
            foreach (var b in line[(colon + 1)..])
            {
                if ((b < 0x20 && b != '\t') || b == 0x7F)
                {
                    return ParseStep.Bad;
                }
            }
        }
    }

    /// <summary>Writes a chunk header for <paramref name="size"/> bytes.</summary>
    public static void WriteSize(IBufferWriter<byte> writer, long size)
    {
        var span = writer.GetSpan(20);
        Utf8Formatter.TryFormat(size, span, out var written, new StandardFormat('X'));
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        writer.Advance(written);
    }

    private static ReadOnlySpan<byte> Copy(in ReadOnlySequence<byte> seq, Span<byte> scratch)
    {
        seq.CopyTo(scratch);
        return scratch[..(int)seq.Length];
    }
}
