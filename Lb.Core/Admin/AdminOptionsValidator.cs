using Lb.Core.Options;
using Lb.Core.Spec;
using Microsoft.Extensions.Options;

namespace Lb.Core.Admin;

/// <summary>Checks <see cref="AdminOptions"/> on start; every message names the setting and the fix.</summary>
internal sealed class AdminOptionsValidator(IOptions<LbNodeOptions> node) : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        LbNodeOptions listeners;
        try
        {
            listeners = node.Value;
        }
        catch (OptionsValidationException)
        {
            // Invalid node options are reported by their own validator; judge the admin settings alone.
            listeners = new LbNodeOptions { DashboardListenAddr = "" };
        }
        var failures = Check(options, listeners);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The admin settings alone, and against the node's admin listener address.</summary>
    public static List<string> Check(AdminOptions options, LbNodeOptions node)
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
        // The admin API can rewrite every route: an explicit address beyond this machine needs a token or an explicit opt-in.
        if (options.AdminToken.Length == 0 && !options.AdminInsecure && ListenAddress.TryParse(node.DashboardListenAddr, out var admin, out _)
            && admin!.Host.Length > 0 && !LbNodeOptionsValidator.IsLoopback(admin.Host))
        {
            failures.Add($"dashboardListenAddr '{node.DashboardListenAddr}' would open the admin API beyond this machine with no adminToken; set adminToken (openssl rand -hex 24), listen on 127.0.0.1, or set adminInsecure to true to accept the risk");
        }
        return failures;
    }
}
