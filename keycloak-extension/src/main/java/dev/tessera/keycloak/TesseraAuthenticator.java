package dev.tessera.keycloak;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.authentication.Authenticator;
import org.keycloak.events.Errors;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.services.managers.BruteForceProtector;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The browser-flow step after username and password: asks for a one-time code and lets Tessera decide.
 * Keycloak-facing glue only; the decisions live in {@link LoginDecision}, {@link GroupPolicy} and
 * {@link ValidateClient}.
 */
public final class TesseraAuthenticator implements Authenticator {
  private static final Logger LOG = Logger.getLogger(TesseraAuthenticator.class);

  static final String TEMPLATE = "tessera-otp.ftl";
  static final String FIELD = "otp";
  static final String NOTE_TRANSACTION = "tessera.transactionId";
  static final String NOTE_PROMPT = "tessera.prompt";
  /** Tessera's validate API takes at most 256 characters of PIN + code. */
  static final int MAX_CODE_CHARS = 256;
  /** Event error when Tessera cannot be reached (Keycloak has no stock code for an unreachable dependency). */
  static final String EVENT_UNAVAILABLE = "tessera_unavailable";

  @Override
  public void authenticate(AuthenticationFlowContext context) {
    TesseraConfig cfg = config(context);
    if (cfg == null) return;
    if (!cfg.groupPolicy().requiresOtp(groupPaths(context.getUser()))) {
      LOG.debugf("user %s is outside the Tessera groups; second factor skipped", context.getUser().getUsername());
      context.success();
      return;
    }
    if (lockedOut(context)) return;
    context.challenge(form(context, null).createForm(TEMPLATE));
  }

  @Override
  public void action(AuthenticationFlowContext context) {
    TesseraConfig cfg = config(context);
    if (cfg == null) return;
    // Checked on every submission: the password step's check does not stop guessing on this page (keycloak#26177).
    if (lockedOut(context)) return;

    MultivaluedMap<String, String> params = context.getHttpRequest().getDecodedFormParameters();
    String code = params.getFirst(FIELD);
    code = code == null ? "" : code.trim();
    // A method picked on the selection page answers the menu; "choose a method" starts afresh.
    String picked = MethodChoice.picked(params);
    boolean choosing = picked == null && MethodChoice.choosing(params);
    if (picked != null) code = picked;
    if (choosing) clearNotes(context.getAuthenticationSession());
    // The push waiting page asks "approved yet?" with an empty answer to its open transaction.
    boolean polling = picked == null && !choosing && code.isEmpty()
        && PushWait.polling(params, context.getAuthenticationSession().getAuthNote(NOTE_TRANSACTION));
    if (code.isEmpty() && !choosing && !polling) {
      context.challenge(form(context, Messages.MISSING).createForm(TEMPLATE));
      return;
    }

    UserModel user = context.getUser();
    if (code.length() > MAX_CODE_CHARS) {
      // Tessera refuses such input as a bad request; count it as the wrong code it is.
      context.getEvent().user(user).detail("reason", "INPUT_TOO_LONG").error(Errors.INVALID_USER_CREDENTIALS);
      context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS,
          form(context, Messages.INVALID).createForm(TEMPLATE));
      return;
    }
    String tesseraUser = tesseraUsername(user, cfg.usernameAttribute());
    if (tesseraUser == null) {
      LOG.errorf("user %s has no value in attribute '%s' configured as the Tessera username; login refused",
          user.getUsername(), cfg.usernameAttribute());
      error(context, Errors.INVALID_CONFIG, Messages.CONFIG_ERROR);
      return;
    }

    AuthenticationSessionModel authSession = context.getAuthenticationSession();
    String txn = authSession.getAuthNote(NOTE_TRANSACTION);
    String clientIp = context.getConnection() == null ? null : context.getConnection().getRemoteAddr();
    ValidateResult result = ValidateClient.of(cfg).validate(tesseraUser, code, txn, clientIp);
    LoginDecision decision = LoginDecision.decide(result, cfg.failMode());

    switch (decision.action()) {
      case SUCCESS -> {
        clearNotes(authSession);
        if (decision.failedOpen()) {
          LOG.warnf("Tessera unreachable (%s); fail mode is open, user %s logged in WITHOUT second factor",
              result, user.getUsername());
          context.getEvent().detail("tessera", "fail-open");
        } else {
          context.getEvent().detail("tessera", "accept");
        }
        context.success();
      }
      case CHALLENGE -> {
        authSession.setAuthNote(NOTE_TRANSACTION, result.transactionId());
        if (result.message() != null) authSession.setAuthNote(NOTE_PROMPT, result.message());
        else authSession.removeAuthNote(NOTE_PROMPT);
        if (!result.methods().isEmpty()) context.challenge(MethodChoice.page(form(context, null), result.methods()));
        else if (PushWait.isPush(result)) context.challenge(PushWait.page(form(context, null), result));
        else context.challenge(form(context, null).setInfo(Messages.CHALLENGE).createForm(TEMPLATE));
      }
      case RETRY_FAILED -> {
        // Tessera consumes a challenge when it is answered, right or wrong: the next try starts afresh.
        clearNotes(authSession);
        LOG.infof("Tessera rejected the code of user %s (%s)", user.getUsername(), result.reason());
        context.getEvent().user(user).detail("reason", String.valueOf(result.reason())).error(Errors.INVALID_USER_CREDENTIALS);
        // failureChallenge makes Keycloak call BruteForceProtector.failedLogin when the realm protects against it.
        context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS,
            form(context, decision.messageKey()).createForm(TEMPLATE));
      }
      case ERROR -> {
        if (result.kind() == ValidateResult.Kind.UNAVAILABLE) {
          LOG.errorf("Tessera unreachable (%s); fail mode is closed, login of user %s refused", result, user.getUsername());
          error(context, EVENT_UNAVAILABLE, decision.messageKey());
        } else {
          LOG.errorf("Tessera call failed (%s); check the step's URL and client key; login of user %s refused",
              result, user.getUsername());
          error(context, Errors.INVALID_CONFIG, decision.messageKey());
        }
      }
    }
  }

  /** An error that is not the user's fault: not counted by brute-force protection, form stays up. */
  private static void error(AuthenticationFlowContext context, String eventError, String key) {
    context.getEvent().user(context.getUser()).error(eventError);
    context.challenge(form(context, key).createForm(TEMPLATE));
  }

  private static LoginFormsProvider form(AuthenticationFlowContext context, String errorKey) {
    LoginFormsProvider form = context.form();
    String prompt = context.getAuthenticationSession().getAuthNote(NOTE_PROMPT);
    if (prompt != null) form.setAttribute("tesseraPrompt", prompt);
    if (errorKey != null) form.setError(errorKey);
    return form;
  }

  private static void clearNotes(AuthenticationSessionModel s) {
    s.removeAuthNote(NOTE_TRANSACTION);
    s.removeAuthNote(NOTE_PROMPT);
  }

  /** Reads the step's config; on a missing or broken config shows an error and returns null (fail closed). */
  private static TesseraConfig config(AuthenticationFlowContext context) {
    AuthenticatorConfigModel model = context.getAuthenticatorConfig();
    Map<String, String> map = model == null ? null : model.getConfig();
    try {
      return TesseraConfig.from(map);
    } catch (IllegalArgumentException e) {
      LOG.errorf("Tessera step in realm %s is misconfigured: %s; login refused", context.getRealm().getName(), e.getMessage());
      context.getEvent().error(Errors.INVALID_CONFIG);
      context.challenge(form(context, Messages.CONFIG_ERROR).createForm(TEMPLATE));
      return null;
    }
  }

  /** Mirrors Keycloak's own OTP form: a user locked by brute-force protection gets no further guesses. */
  private static boolean lockedOut(AuthenticationFlowContext context) {
    RealmModel realm = context.getRealm();
    UserModel user = context.getUser();
    if (!user.isEnabled()) {
      context.getEvent().user(user).error(Errors.USER_DISABLED);
      context.forceChallenge(form(context, Messages.DISABLED).createForm(TEMPLATE));
      return true;
    }
    if (!realm.isBruteForceProtected()) return false;
    BruteForceProtector protector = context.getProtector();
    if (protector != null && protector.isTemporarilyDisabled(context.getSession(), realm, user)) {
      context.getEvent().user(user).error(Errors.USER_TEMPORARILY_DISABLED);
      context.forceChallenge(form(context, Messages.TEMPORARILY_LOCKED).createForm(TEMPLATE));
      return true;
    }
    return false;
  }

  /** The name Tessera knows the user by: the Keycloak username, or the configured attribute. */
  static String tesseraUsername(UserModel user, String attribute) {
    if (attribute == null || attribute.isEmpty() || attribute.equals("username")) return user.getUsername();
    if (attribute.equals("email")) return blankToNull(user.getEmail());
    return blankToNull(user.getFirstAttribute(attribute));
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** Full paths of the user's direct groups, built by walking parents (portable across Keycloak 24-26). */
  static List<String> groupPaths(UserModel user) {
    List<String> out = new ArrayList<>();
    user.getGroupsStream().forEach(g -> out.add(path(g)));
    return out;
  }

  private static String path(GroupModel g) {
    StringBuilder b = new StringBuilder();
    int guard = 0;
    for (GroupModel cur = g; cur != null && guard < 100; cur = cur.getParent(), guard++) {
      b.insert(0, "/" + cur.getName());
    }
    return b.toString();
  }

  @Override
  public boolean requiresUser() {
    return true;
  }

  @Override
  public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
    // Tessera, not Keycloak, knows whether the user has a token; it answers NO_TOKEN if not.
    return true;
  }

  @Override
  public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {}

  @Override
  public void close() {}
}
