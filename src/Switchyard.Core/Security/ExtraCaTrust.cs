using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Core.Security;

/// <summary>
/// Extra certificate authorities trusted for upstream TLS (<c>UPSTREAM_CA_FILE</c>, PEM): an egress proxy that
/// re-signs traffic, a private endpoint, or a test's own CA. The system roots stay trusted.
/// </summary>
public sealed class ExtraCaTrust
{
    private readonly X509Certificate2Collection _roots;

    private ExtraCaTrust(X509Certificate2Collection roots)
    {
        _roots = roots;
    }

    /// <summary>The CAs in a PEM file (one or more <c>CERTIFICATE</c> blocks); null for no file. Throws for a file without certificates.</summary>
    public static ExtraCaTrust? FromPemFile(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        if (roots.Count == 0)
        {
            throw new FormatException($"UPSTREAM_CA_FILE={path} holds no PEM certificate.");
        }
        return new ExtraCaTrust(roots);
    }

    /// <summary>Accepts what the system accepts, plus chains that end in one of the extra CAs (the host name must still match).</summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>Applies the trust to a handler's TLS options.</summary>
    public void ApplyTo(SocketsHttpHandler handler)
    {
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) => Validate(cert, chain, errors);
    }
}
