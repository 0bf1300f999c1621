namespace Switchyard.Core.Guardrails.Pii;

/// <summary>A kind of personal or secret data <c>default.pii</c> finds.</summary>
public enum PiiCategory
{
    Email,
    Phone,
    CreditCard,
    Iban,
    NationalId,
    IpAddress,
    Secret,
}

/// <summary>Config names and redaction placeholders of <see cref="PiiCategory"/>.</summary>
public static class PiiCategories
{
    public static readonly IReadOnlyList<PiiCategory> All =
        [PiiCategory.Email, PiiCategory.Phone, PiiCategory.CreditCard, PiiCategory.Iban, PiiCategory.NationalId, PiiCategory.IpAddress, PiiCategory.Secret];

    /// <summary>The name used in the <c>categories</c> parameter and in results (<c>credit_card</c>).</summary>
    public static string Name(this PiiCategory category) => category switch
    {
        PiiCategory.Email => "email",
        PiiCategory.Phone => "phone",
        PiiCategory.CreditCard => "credit_card",
        PiiCategory.Iban => "iban",
        PiiCategory.NationalId => "national_id",
        PiiCategory.IpAddress => "ip_address",
        _ => "secret",
    };

    /// <summary>What a finding is replaced with (<c>[EMAIL]</c>).</summary>
    public static string Placeholder(this PiiCategory category) => "[" + category.Name().ToUpperInvariant() + "]";

    /// <summary>Parses a category name, case-insensitively, with or without the underscore.</summary>
    public static bool TryParse(string name, out PiiCategory category)
    {
        var key = name.Trim().Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        foreach (var c in All)
        {
            if (c.Name().Replace("_", "", StringComparison.Ordinal) == key)
            {
                category = c;
                return true;
            }
        }
        category = default;
        return false;
    }
}
