namespace Switchyard.Core.Routing.Conditions;

/// <summary>Where a query key's value comes from.</summary>
internal enum FieldRoot
{
    Metadata,
    Params,
    UrlPathname,
    RequestBodyBytes,
    RequestEstimatedTokens,
    RequestEstimatedCost,
}
