using Microsoft.Extensions.Options;

namespace Lb.Core.Admin;

/// <summary>Checks <see cref="AdminOptions"/> on start; every message names the setting and the fix.</summary>
internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        if (options.AdminToken.Length is > 0 and < 16)
        {
            failures.Add("adminToken must be at least 16 characters; generate one with: openssl rand -hex 24");
        }
        if (options.AdminReadRequiresToken && options.AdminToken.Length == 0)
        {
            failures.Add("adminReadRequiresToken is set but adminToken is empty; set adminToken too");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
