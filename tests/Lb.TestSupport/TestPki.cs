using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
namespace Lb.TestSupport;

/// <summary>A node's certificate, its private key and the CA that issued it, as PEM files.</summary>
public sealed record TestPemFiles(string Certificate, string Key, string Ca);

/// <summary>A throwaway CA that issues node certificates as PEM files in a temporary directory.</summary>
public sealed class TestPki : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-raft-pki-").FullName;
    private readonly X509Certificate2 _ca;

    public TestPki(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
        CaFile = Path.Combine(_dir, "ca.pem");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
    }

    public string CaFile { get; }

    /// <summary>A certificate for <paramref name="nodeId"/> signed by this CA, with this CA as the trust anchor.</summary>
    public TestPemFiles Issue(string nodeId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={nodeId}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        var certFile = Path.Combine(_dir, $"{nodeId}.pem");
        var keyFile = Path.Combine(_dir, $"{nodeId}.key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return new TestPemFiles(certFile, keyFile, CaFile);
    }

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
