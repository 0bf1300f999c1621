using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Core.Redis;

/// <summary>Server certificate check: the system roots, or else the configured CA certificates (self-signed Memorystore CAs).</summary>
internal static class TlsTrust
{
    public static bool Accept(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors,
        X509Certificate2Collection? extraRoots, out string? problem)
    {
        problem = null;
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            problem = "the server sent no certificate";
            return false;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            // The name check does not depend on which roots are trusted, so a custom CA cannot excuse it.
            problem = "the server certificate does not match the host name";
            return false;
        }
        if (extraRoots is not { Count: > 0 })
        {
            problem = "the server certificate is not trusted (" + Describe(presented) + "); set the CA file if it is self-signed";
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(extraRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var owned = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(owned ?? (X509Certificate2)certificate))
        {
            return true;
        }
        problem = "the server certificate is not signed by the configured CA (" + Describe(chain) + ")";
        return false;
    }

    private static string Describe(X509Chain? chain)
    {
        if (chain is null || chain.ChainStatus.Length == 0)
        {
            return "untrusted root";
        }
        return string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
    }
}
