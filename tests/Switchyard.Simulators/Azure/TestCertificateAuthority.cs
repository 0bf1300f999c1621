using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Simulators.Azure;

/// <summary>A throwaway CA and a loopback server certificate it signed (SAN IP 127.0.0.1 and DNS localhost), for HTTPS simulators.</summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private TestCertificateAuthority(X509Certificate2 ca, X509Certificate2 server, string caPemFile)
    {
        Ca = ca;
        Server = server;
        CaPemFile = caPemFile;
    }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>A temporary PEM file holding the CA, for UPSTREAM_CA_FILE.</summary>
    public string CaPemFile { get; }

    public static TestCertificateAuthority Create()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Switchyard Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var signed = serverRequest.Create(ca, now.AddDays(-1), now.AddDays(10), serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        var file = Path.Combine(Path.GetTempPath(), "switchyard-test-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(file, ca.ExportCertificatePem());
        return new TestCertificateAuthority(X509CertificateLoader.LoadCertificate(ca.RawData), server, file);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        try
        {
            File.Delete(CaPemFile);
        }
        catch (IOException)
        {
        }
    }
}
