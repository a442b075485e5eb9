using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// Writes a rewritten head into one span of the pipe and advances it once, instead of a GetSpan/Advance pair per
/// piece (a head is 10–20 pieces; each pair is two interface calls and a struct store with write barriers in the pipe,
/// which was ~1 % of the keep-alive profile). The caller's size bound only picks the mode: a piece that does not fit
/// what is left commits what was written so far and goes on piece by piece, so a wrong bound never loses bytes.
/// </summary>
internal ref struct HeadWriter
{
    /// <summary>Above this the pieces go straight to the pipe: a larger size hint would take a new pool block (or an array-pool buffer beyond one block) for a head that usually needs a few hundred bytes.</summary>
    internal const int MaxDirect = 4096;

    private readonly PipeWriter _pipe;
    private Span<byte> _span;
    private int _length;
    private bool _direct;

    public HeadWriter(PipeWriter pipe, int bound)
    {
        _pipe = pipe;
        if (bound <= MaxDirect)
        {
            _span = pipe.GetSpan(bound);
            _direct = true;
        }
    }

    public void Write(scoped ReadOnlySpan<byte> data)
    {
        if (_direct)
        {
            if (data.Length <= _span.Length - _length)
            {
                data.CopyTo(_span[_length..]);
                _length += data.Length;
                return;
            }
            Spill();
        }
        _pipe.Write(data);
    }

    public void WriteLatin1(string s)
    {
        if (_direct)
        {
            if (s.Length <= _span.Length - _length)
            {
                _length += Encoding.Latin1.GetBytes(s, _span[_length..]);
                return;
            }
            Spill();
        }
        var span = _pipe.GetSpan(s.Length);
        _pipe.Advance(Encoding.Latin1.GetBytes(s, span));
    }

    public void WriteUtf8(string s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (_direct)
        {
            if (max <= _span.Length - _length)
            {
                _length += Encoding.UTF8.GetBytes(s, _span[_length..]);
                return;
            }
            Spill();
        }
        var span = _pipe.GetSpan(max);
        _pipe.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    /// <summary>Hands what was written to the pipe; the writer must not be used afterwards.</summary>
    public void Commit()
    {
        if (_direct)
        {
            _pipe.Advance(_length);
            _direct = false;
        }
    }

    private void Spill()
    {
        _pipe.Advance(_length);
        _direct = false;
        _span = default;
        _length = 0;
    }
}
