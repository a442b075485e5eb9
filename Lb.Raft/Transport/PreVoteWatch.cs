namespace Lb.Raft.Transport;

/// <summary>
/// Recognises pre-votes in the bytes of one Raft connection, for <see cref="PreVoteTieBreak"/>. It relies on three
/// facts of DotNext's connection protocol (6.x): a connection carries one exchange at a time (request, then response);
/// a pre-vote request is one write of <see cref="RequestLength"/> bytes starting with message type
/// <see cref="PreVoteType"/>; its response is <see cref="ResponseLength"/> bytes, the term then the result, 1 meaning
/// granted. Other requests either start with another type byte or are not that length (a test runs a real DotNext
/// election over this transport and fails if these facts change). Recognising too little only turns the tie-break
/// off for that exchange; nothing here can change a term or a vote.
/// </summary>
internal abstract class PreVoteWatch
{
    public const byte PreVoteType = 0x07;

    /// <summary>Type byte + member id (32 bytes in 6.12) + term, last log index, last log term (8 each).</summary>
    public const int RequestLength = 1 + 32 + 3 * 8;

    /// <summary>Term (8) + result (1).</summary>
    public const int ResponseLength = 9;

    public const byte Refused = 0;

    public const byte Granted = 1;

    /// <summary>
    /// Bytes this side is about to send; may throw <see cref="IOException"/> to fail the request. True: send them
    /// with the last byte set to <see cref="Refused"/> (an answer turned into a refusal).
    /// </summary>
    public abstract bool Writing(ReadOnlySpan<byte> data);

    /// <summary>Bytes this side has just received; may rewrite them before the protocol reads them.</summary>
    public abstract void Received(Span<byte> data);

    /// <summary>Our own pre-vote requests to one peer (an outbound connection).</summary>
    public sealed class Outbound(PreVoteTieBreak tieBreak) : PreVoteWatch
    {
        private int _responseSeen = -1; // bytes of a pre-vote response received so far; -1: none expected

        public override bool Writing(ReadOnlySpan<byte> data)
        {
            if (data.Length == RequestLength && data[0] == PreVoteType)
            {
                if (!tieBreak.Requesting())
                {
                    throw new IOException("Standing aside: this node just granted a pre-vote to a higher-ranked member");
                }
                _responseSeen = 0;
            }
            else
            {
                _responseSeen = -1;
            }
            return false;
        }

        public override void Received(Span<byte> data)
        {
            if (_responseSeen < 0)
            {
                return;
            }
            var resultAt = ResponseLength - 1 - _responseSeen;
            if (resultAt < data.Length)
            {
                if (!tieBreak.Answered(data[resultAt] == Granted))
                {
                    data[resultAt] = Refused;
                }
                _responseSeen = -1;
                return;
            }
            _responseSeen += data.Length;
        }
    }

    /// <summary>
    /// Requests from one peer (an inbound connection) and this node's answers. Watches from the connection's first
    /// byte: the preamble (<see cref="RaftPreamble"/>: 4 marker bytes, a length byte, the address) may arrive in the
    /// same read as the first request.
    /// </summary>
    /// <param name="tieBreak">This node's tie-break.</param>
    public sealed class Inbound(PreVoteTieBreak tieBreak) : PreVoteWatch
    {
        private const int PreambleLengthAt = 4;
        private long _received;            // bytes received since the last answer (since the start before the first one)
        private long _requestStart = -1;   // where the current request starts in those bytes; -1: preamble not read yet
        private byte _requestType;

        private string? _peer;

        /// <summary>
        /// The peer's Raft address, once its preamble is read; null: unknown (no tie-break for it). The first request
        /// may have arrived with the preamble, before the address was known.
        /// </summary>
        public string? Peer
        {
            get => _peer;
            set
            {
                _peer = value;
                if (value is not null && IsPreVoteRequest)
                {
                    tieBreak.Asked(value);
                }
            }
        }

        public override void Received(Span<byte> data)
        {
            var from = _received;
            _received += data.Length;
            if (_requestStart < 0 && PreambleLengthAt >= from && PreambleLengthAt < _received)
            {
                _requestStart = PreambleLengthAt + 1 + data[(int)(PreambleLengthAt - from)];
            }
            if (_requestStart >= from && _requestStart < _received)
            {
                _requestType = data[(int)(_requestStart - from)];
            }
            if (IsPreVoteRequest && Peer is { } peer)
            {
                tieBreak.Asked(peer); // the whole request is in: DotNext answers it next
            }
        }

        private bool IsPreVoteRequest => _requestStart >= 0 && _received - _requestStart == RequestLength && _requestType == PreVoteType;

        public override bool Writing(ReadOnlySpan<byte> data)
        {
            var refuse = false;
            if (data.Length == ResponseLength && IsPreVoteRequest && Peer is { } peer)
            {
                var granted = data[ResponseLength - 1] == Granted;
                var send = tieBreak.Answering(peer, granted);
                refuse = granted && !send;
            }
            _received = 0;
            _requestStart = 0;
            _requestType = 0;
            return refuse;
        }
    }
}
