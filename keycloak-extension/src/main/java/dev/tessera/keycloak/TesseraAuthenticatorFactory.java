package dev.tessera.keycloak;

import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.credential.OTPCredentialModel;
import org.keycloak.provider.ProviderConfigProperty;

/** Registers the Tessera step under the provider id {@value #PROVIDER_ID}. */
public final class TesseraAuthenticatorFactory implements AuthenticatorFactory {
  public static final String PROVIDER_ID = "tessera-otp";

  private static final TesseraAuthenticator SINGLETON = new TesseraAuthenticator();

  private static final AuthenticationExecutionModel.Requirement[] REQUIREMENTS = {
    AuthenticationExecutionModel.Requirement.REQUIRED,
    AuthenticationExecutionModel.Requirement.ALTERNATIVE,
    AuthenticationExecutionModel.Requirement.DISABLED,
  };

  private static final List<ProviderConfigProperty> CONFIG = List.of(
      property(TesseraConfig.URL, "Tessera URL", ProviderConfigProperty.STRING_TYPE,
          "Base URL of the Tessera server, e.g. https://otp.example.org:8080. The step calls <URL>/v1/validate.", null),
      property(TesseraConfig.API_KEY, "Client key", ProviderConfigProperty.PASSWORD,
          "API key of a Tessera client of kind 'keycloak' (tessera client add --kind keycloak).", null),
      property(TesseraConfig.TIMEOUT_MS, "Timeout (ms)", ProviderConfigProperty.STRING_TYPE,
          "Connect and request timeout for each call to Tessera, in milliseconds (100-60000).",
          String.valueOf(TesseraConfig.DEFAULT_TIMEOUT_MS)),
      property(TesseraConfig.INCLUDE_GROUPS, "Include groups", ProviderConfigProperty.MULTIVALUED_STRING_TYPE,
          "Only members of these groups (name, or full path like /staff/ops; subgroups count) must enter a code."
              + " Empty: everyone.", null),
      property(TesseraConfig.EXCLUDE_GROUPS, "Exclude groups", ProviderConfigProperty.MULTIVALUED_STRING_TYPE,
          "Members of these groups skip the code. Wins over 'Include groups'.", null),
      property(TesseraConfig.USERNAME_ATTRIBUTE, "Username attribute", ProviderConfigProperty.STRING_TYPE,
          "User attribute holding the Tessera username ('email' for the e-mail address). Empty: the Keycloak username.",
          null),
      failModeProperty());

  private static ProviderConfigProperty property(String name, String label, String type, String help, String dflt) {
    ProviderConfigProperty p = new ProviderConfigProperty();
    p.setName(name);
    p.setLabel(label);
    p.setType(type);
    p.setHelpText(help);
    if (dflt != null) p.setDefaultValue(dflt);
    return p;
  }

  private static ProviderConfigProperty failModeProperty() {
    ProviderConfigProperty p = property(TesseraConfig.FAIL_MODE, "Fail mode", ProviderConfigProperty.LIST_TYPE,
        "When Tessera cannot be reached: 'closed' refuses the login with an error; 'open' lets the user in without"
            + " the second factor. Both are logged. A refused client key always fails closed.",
        FailMode.CLOSED.configValue());
    p.setOptions(List.of(FailMode.CLOSED.configValue(), FailMode.OPEN.configValue()));
    return p;
  }

  @Override
  public String getId() {
    return PROVIDER_ID;
  }

  @Override
  public String getDisplayType() {
    return "Tessera OTP";
  }

  @Override
  public String getHelpText() {
    return "Asks for a one-time code and checks it against a Tessera server.";
  }

  /**
   * "otp", on purpose. Since Keycloak 26.6 the brute-force protector drops failures of authenticators
   * whose category is not password, otp or recovery-authn-codes, which would allow unlimited code
   * guessing (the bug class of several third-party MFA plugins). With "otp" the failures count on every
   * version, and 26.6+ also applies the realm's separate limit for second-factor failures.
   */
  @Override
  public String getReferenceCategory() {
    return OTPCredentialModel.TYPE;
  }

  @Override
  public boolean isConfigurable() {
    return true;
  }

  @Override
  public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
    return REQUIREMENTS.clone();
  }

  @Override
  public boolean isUserSetupAllowed() {
    return false;
  }

  @Override
  public List<ProviderConfigProperty> getConfigProperties() {
    return CONFIG;
  }

  @Override
  public Authenticator create(KeycloakSession session) {
    return SINGLETON;
  }

  @Override
  public void init(Config.Scope config) {}

  @Override
  public void postInit(KeycloakSessionFactory factory) {}

  @Override
  public void close() {}
}
