package dev.tessera.keycloak;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.keycloak.forms.login.LoginFormsProvider;

/**
 * The method-selection page: Tessera offered a menu with its challenge; the user picks a method by
 * its button (or types a code at once). The pick goes back to Tessera as the answer to the menu's
 * transaction, so Tessera alone decides what it starts; this class only reads and renders.
 */
final class MethodChoice {
  static final String TEMPLATE = "tessera-select.ftl";
  /** The button that picks a method: its value is the menu number. */
  static final String PICK = "tessera-method";
  /** The code form's "choose a method" button: asks Tessera for a fresh challenge. */
  static final String CHOOSE = "tessera-choose";

  private MethodChoice() {}

  static Response page(LoginFormsProvider form, List<MethodOption> options) {
    return form.setAttribute("tesseraMethods", options).createForm(TEMPLATE);
  }

  /**
   * The picked menu number, as the pass for Tessera. Only one or two digits pass: anything else is
   * not a pick (Tessera refuses a number that is not on its menu).
   */
  static String picked(MultivaluedMap<String, String> params) {
    String v = params.getFirst(PICK);
    if (v == null) return null;
    v = v.trim();
    return v.matches("[0-9]{1,2}") ? v : null;
  }

  static boolean choosing(MultivaluedMap<String, String> params) {
    return params.containsKey(CHOOSE);
  }
}
