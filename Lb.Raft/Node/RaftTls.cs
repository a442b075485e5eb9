using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DotNext.Net.Security;
using Lb.Core.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Node;

/// <summary>The PEM files of mutual TLS on the Raft port (<c>raftTlsCertificate</c>, <c>raftTlsKey</c>, <c>raftTlsCa</c>).</summary>
internal sealed record RaftTlsFiles(string Certificate, string Key, string Ca)
{
    /// <summary>The node's files, or null when the keys are not set (plain TCP; the validator allows all three or none).</summary>
    public static RaftTlsFiles? From(LbNodeOptions options) =>
        options.RaftTlsCertificate.Length > 0 && options.RaftTlsKey.Length > 0 && options.RaftTlsCa.Length > 0
            ? new(options.RaftTlsCertificate, options.RaftTlsKey, options.RaftTlsCa)
            : null;
}

/// <summary>
/// Mutual TLS for Lb's Raft transport (<see cref="Transport.RaftTransport"/>): every connection, in either direction, presents this node's certificate and
/// requires the peer's to chain to the cluster CA, the only trust anchor (no system roots, no revocation fetches).
/// Host names are not checked: members are addressed by IP and change address on a re-join, so a certificate from
/// the cluster CA is the membership credential.
/// </summary>
internal static partial class RaftTls
{
    /// <summary>The TLS options of both sides of a Raft connection; <paramref name="rejections"/> counts the peer certificates they refuse.</summary>
    public static SslOptions Create(RaftTlsFiles files, ILogger logger, out RejectionLog rejections)
    {
        X509Certificate2 own;
        X509Certificate2Collection chainFile = [];
        X509Certificate2Collection ca = [];
        try
        {
            own = X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
            chainFile.ImportFromPemFile(files.Certificate);
            ca.ImportFromPemFile(files.Ca);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Raft TLS: cannot load raftTlsCertificate '{files.Certificate}', raftTlsKey '{files.Key}' or raftTlsCa '{files.Ca}' ({ex.Message}); give PEM files: the node's certificate, its matching private key and the cluster CA certificate", ex);
        }
        if (ca.Count == 0)
        {
            throw new InvalidOperationException($"Raft TLS: raftTlsCa '{files.Ca}' holds no certificate; give the cluster CA certificate as PEM");
        }
        // Intermediates after the leaf in the certificate file are sent along so peers can build the chain.
        var intermediates = new X509Certificate2Collection();
        foreach (var c in chainFile.Skip(1))
        {
            intermediates.Add(c);
        }
        var context = SslStreamCertificateContext.Create(own, intermediates, offline: true);
        // A refused peer retries many times a second: log its rejection once per interval, not per attempt.
        var quiet = rejections = new RejectionLog(logger);
        var options = new SslOptions();
        var server = options.ServerOptions;
        server.ServerCertificateContext = context;
        server.ClientCertificateRequired = true;
        server.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        server.RemoteCertificateValidationCallback = (_, certificate, chain, _) => Accept(certificate, chain, ca, "incoming", quiet);
        var client = options.ClientOptions;
        client.ClientCertificateContext = context;
        client.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        client.RemoteCertificateValidationCallback = (_, certificate, chain, _) => Accept(certificate, chain, ca, "outgoing", quiet);
        return options;
    }

    /// <summary>True when <paramref name="presented"/> chains to the cluster CA; the reason is logged otherwise.</summary>
    internal static bool Accept(X509Certificate? presented, X509Chain? sent, X509Certificate2Collection ca, string direction, RejectionLog log)
    {
        if (presented is null)
        {
            log.Rejected(direction, "(none)", "the peer presented no certificate; give every member raftTlsCertificate, raftTlsKey and raftTlsCa");
            return false;
        }
        var leaf = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        // What the peer sent only helps find intermediates; trust still ends at the cluster CA.
        if (sent is not null)
        {
            foreach (var element in sent.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (chain.Build(leaf))
        {
            return true;
        }
        var reason = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal));
        log.Rejected(direction, leaf.Subject, $"it does not chain to raftTlsCa ({(reason.Length > 0 ? reason : "untrusted")}); issue the member's certificate from the cluster CA");
        return false;
    }

    /// <summary>
    /// Counts rejected certificates and logs one at most once per <see cref="Interval"/>; the count and the last
    /// reason let a join that TLS refuses end at once with that reason instead of retrying until its deadline.
    /// </summary>
    internal sealed class RejectionLog(ILogger logger)
    {
        private static readonly long Interval = (long)TimeSpan.FromSeconds(10).TotalMilliseconds;
        private long _next = long.MinValue;
        private long _count;
        private volatile string? _last;

        /// <summary>Certificates refused so far, in either direction.</summary>
        public long Count => Interlocked.Read(ref _count);

        /// <summary>The last refusal, as "direction connection, subject S: reason".</summary>
        public string? Last => _last;

        public void Rejected(string direction, string subject, string reason)
        {
            _last = $"{direction} Raft connection, subject {subject}: {reason}";
            Interlocked.Increment(ref _count);
            var now = Environment.TickCount64;
            var next = Interlocked.Read(ref _next);
            if (now >= next && Interlocked.CompareExchange(ref _next, now + Interval, next) == next)
            {
                LogRejected(logger, direction, subject, reason);
            }
        }
    }

    [LoggerMessage(EventId = 4060, Level = LogLevel.Warning, Message = "Raft TLS: rejected the certificate of an {Direction} Raft connection, subject {Subject}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string direction, string subject, string reason);
}
