<#-- Tessera one-time code form. Plain markup with the theme's CSS classes only, so it renders in the
     keycloak (v1) and keycloak.v2 login themes of Keycloak 24-26. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=true; section>
    <#if section = "header">
        ${msg("tesseraOtpTitle")}
    <#elseif section = "form">
        <form id="kc-tessera-otp-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post"
              onsubmit="document.getElementById('kc-login').disabled = true; return true;">
            <#if tesseraPrompt??>
                <p id="tessera-prompt" class="${properties.kcLabelWrapperClass!}">${tesseraPrompt}</p>
            </#if>
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcLabelWrapperClass!}">
                    <label for="otp" class="${properties.kcLabelClass!}">${msg("tesseraOtpLabel")}</label>
                </div>
                <div class="${properties.kcInputWrapperClass!}">
                    <input id="otp" name="otp" type="text" class="${properties.kcInputClass!}"
                           autocomplete="one-time-code" inputmode="numeric" autofocus
                           aria-invalid="<#if message?has_content && message.type = 'error'>true<#else>false</#if>"/>
                </div>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <div id="kc-form-buttons" class="${properties.kcFormButtonsClass!}">
                    <input class="${properties.kcButtonClass!} ${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!} ${properties.kcButtonLargeClass!}"
                           name="login" id="kc-login" type="submit" value="${msg("doLogIn")}"/>
                </div>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <button id="tessera-choose" name="tessera-choose" value="1" type="submit" formnovalidate
                        class="${properties.kcButtonClass!} ${properties.kcButtonDefaultClass!} ${properties.kcButtonBlockClass!}"
                        aria-describedby="tessera-choose-hint">${msg("tesseraChooseMethod")}</button>
                <p id="tessera-choose-hint" class="${properties.kcLabelWrapperClass!}">${msg("tesseraChooseHint")}</p>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
